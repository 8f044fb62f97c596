using System.CommandLine;
using System.Formats.Tar;
using Federation.Contracts.V1;
using Google.Protobuf;
using static Federation.Cli.Cli;

namespace Federation.Cli;

/// <summary>
/// <c>solnet backup FILE</c> and <c>solnet restore FILE</c> (adr/0015): the node streams a
/// consistent snapshot, solnet encrypts it here, so neither the passphrase nor a clear copy
/// ever rests on the server; restore writes a data folder the node then starts from.
/// </summary>
public static class BackupCli
{
    /// <summary>Inside the encrypted archive: the manifest, and the data folder's files under this prefix.</summary>
    private const string ManifestEntry = "manifest.pb";
    private const string DataPrefix = "data/";
    private const int MinimumPassphrase = 12;

    public static IEnumerable<Command> Commands() => [Backup(), Restore()];

    private static Option<string> PassphraseFile() => Text("--passphrase-file",
        "Read the passphrase from the first line of this file instead of asking for it (never give it on the command line)", "FILE");

    private static Command Backup()
    {
        var file = Arg("FILE", "Where to write the encrypted backup (it must not exist yet)");
        var passphraseFile = PassphraseFile();
        return Cmd("backup", "An encrypted snapshot of the running node: its key, tokens and, with SQLite, its database (operator). Keep it off the server", [file, passphraseFile], async s =>
        {
            var path = s.Get(file);
            if (File.Exists(path) || Directory.Exists(path))
            {
                throw new UsageException($"{path} already exists: give a new file name (a backup never overwrites another).");
            }
            var passphrase = Passphrase.Read(s.Text(passphraseFile), confirm: true);
            if (passphrase.Length < MinimumPassphrase)
            {
                throw new UsageException($"The passphrase has {passphrase.Length} characters; use at least {MinimumPassphrase} (a few words), since the file holds the node's key.");
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (manifest, archive) = await ReceiveAsync(s);
            var encrypted = BackupFile.Encrypt(archive, passphrase);
            WriteNew(path, encrypted);
            clock.Stop();

            // --json and --field print the manifest: what was backed up, and of which node.
            s.Out.Print(manifest, _ =>
                $"Backed up node '{manifest.Name}' (fingerprint {manifest.Fingerprint}) to {path}: {encrypted.LongLength:N0} bytes in {clock.Elapsed.TotalSeconds:0.0} s.\n"
                + (manifest.Database == "postgres"
                    ? $"The database is in PostgreSQL ({manifest.DatabaseDescription}) and is NOT in this file: dump it with pg_dump (docs/operators.md, \"Backups and restore\").\n"
                    : "")
                + "It holds the node's key and its local details: keep it off the server, and the passphrase apart from it.");
        });
    }

    private static Command Restore()
    {
        var file = Arg("FILE", "The encrypted backup");
        var passphraseFile = PassphraseFile();
        return Cmd("restore", "Write a node's data folder (--data DIR, new or empty) from a backup; the node must not be running. Then start the node on it as usual", [file, passphraseFile], s =>
        {
            var target = s.Get(Global.Data) is { Length: > 0 } d ? d
                : throw new UsageException("Restore where? Give the new data folder with --data DIR (it must be new or empty).");
            var path = s.Get(file);
            // Before the passphrase is asked for: a refusal should cost nothing.
            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new RefusedException($"{target} is not empty: restore into a new or empty folder (a restore never overwrites a node's data); nothing was written.");
            }
            if (File.Exists(target))
            {
                throw new RefusedException($"{target} is a file, not a folder: give a new or empty folder; nothing was written.");
            }
            if (!File.Exists(path))
            {
                throw new UsageException($"{path} does not exist.");
            }
            var encrypted = File.ReadAllBytes(path);
            var passphrase = Passphrase.Read(s.Text(passphraseFile), confirm: false);
            var (manifest, files) = Unpack(BackupFile.Decrypt(encrypted, passphrase, path), path);
            WriteDataFolder(target, files);

            s.Out.Print(manifest, _ =>
                $"Restored node '{manifest.Name}' (fingerprint {manifest.Fingerprint}, backed up {manifest.TakenAt?.ToDateTime():u}) into {target}.\n"
                + (manifest.Database == "postgres"
                    ? "Its database was in PostgreSQL: restore it with pg_restore before starting the node (docs/operators.md, \"Backups and restore\").\n"
                    : "")
                + $"Start the node on it with its usual command (--name {manifest.Name} --data {target} …).");
            return Task.CompletedTask;
        });
    }

    /// <summary>The stream from the node, as a tar archive in memory: nothing in clear touches this machine's disk either.</summary>
    private static async Task<(BackupManifest, byte[])> ReceiveAsync(Session s)
    {
        using var call = s.Client.TakeBackup(new TakeBackupRequest(), s.Stream(s.Cancel));
        BackupManifest? manifest = null;
        var files = new List<(string Path, MemoryStream Bytes)>();
        while (await call.ResponseStream.MoveNext(s.Cancel))
        {
            var chunk = call.ResponseStream.Current;
            if (chunk.Manifest is { } m)
            {
                manifest = m;
                continue;
            }
            if (files.Count == 0 || files[^1].Path != chunk.Path)
            {
                files.Add((chunk.Path, new MemoryStream()));
            }
            chunk.Data.WriteTo(files[^1].Bytes);
        }
        if (manifest is null)
        {
            throw new IOException("The node sent no backup manifest; is it a release that makes backups?");
        }
        using var archive = new MemoryStream();
        using (var tar = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(Entry(ManifestEntry, manifest.ToByteArray()));
            foreach (var (path, bytes) in files)
            {
                tar.WriteEntry(Entry(DataPrefix + path, bytes.ToArray()));
            }
        }
        return (manifest, archive.ToArray());
    }

    private static PaxTarEntry Entry(string name, byte[] bytes) => new(TarEntryType.RegularFile, name)
    {
        DataStream = new MemoryStream(bytes),
        Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    };

    private static (BackupManifest, Dictionary<string, byte[]>) Unpack(byte[] archive, string name)
    {
        BackupManifest? manifest = null;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var tar = new TarReader(new MemoryStream(archive));
        while (tar.GetNextEntry() is { } entry)
        {
            using var bytes = new MemoryStream();
            entry.DataStream?.CopyTo(bytes);
            if (entry.Name == ManifestEntry)
            {
                manifest = BackupManifest.Parser.ParseFrom(bytes.ToArray());
            }
            else if (entry.EntryType == TarEntryType.RegularFile && entry.Name.StartsWith(DataPrefix, StringComparison.Ordinal)
                     && SafeRelative(entry.Name[DataPrefix.Length..]) is { } relative)
            {
                files[relative] = bytes.ToArray();
            }
            else
            {
                throw new RefusedException($"{name} holds an entry a backup never has ({entry.Name}); nothing was restored.");
            }
        }
        return manifest is not null && files.ContainsKey("node.key")
            ? (manifest, files)
            : throw new RefusedException($"{name} has no node key or no manifest: it is not a whole backup; nothing was restored.");
    }

    /// <summary>A path that stays inside the data folder: no root, no "..", nothing empty.</summary>
    private static string? SafeRelative(string path)
    {
        var parts = path.Split('/');
        return path.Length > 0 && parts.All(p => p is { Length: > 0 } and not "." and not "..") ? Path.Combine(parts) : null;
    }

    /// <summary>
    /// Writes every file into a new folder beside the target, then renames it into place: a
    /// crash leaves either no node folder or the whole of it, never half a node.
    /// </summary>
    private static void WriteDataFolder(string target, Dictionary<string, byte[]> files)
    {
        var full = Path.GetFullPath(target).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.restoring-{Guid.NewGuid().ToString("N")[..8]}");
        CreatePrivateDirectory(staging);
        try
        {
            foreach (var (relative, bytes) in files)
            {
                var path = Path.Combine(staging, relative);
                var folder = Path.GetDirectoryName(path)!;
                if (!Directory.Exists(folder))
                {
                    CreatePrivateDirectory(folder);
                }
                WriteNew(path, bytes);
            }
            if (Directory.Exists(full))
            {
                // Checked empty above; Directory.Move needs the name free.
                Directory.Delete(full);
            }
            Directory.Move(staging, full);
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>A new file, readable by its owner only, on disk before its name appears (temp, flush, rename).</summary>
    internal static void WriteNew(string path, byte[] bytes)
    {
        var tmp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(tmp, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, path);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }
}
