using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Storage;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Federation.Node.Backups;

/// <summary>
/// What <c>solnet backup</c> receives: the manifest, the data folder's own files and, with
/// SQLite, a consistent copy of the database (adr/0015). Nothing is encrypted here: solnet
/// encrypts on the operator's machine, so the passphrase never reaches the server; and
/// nothing is staged on the server's disk.
/// </summary>
public sealed class NodeBackup(IFederationStore store, NodeIdentity identity, IOptions<NodeOptions> options)
{
    /// <summary>Well under gRPC's 4 MB message limit, and small enough to keep memory flat per chunk.</summary>
    private const int ChunkSize = 256 * 1024;

    /// <summary>Where the database lives in the backup and in a data folder.</summary>
    public const string DatabaseFile = "node.db";

    /// <summary>
    /// Files the backup leaves out: the database's own files (copied through SQLite's backup
    /// instead: a file copy of a live database is not consistent), the files the node
    /// rewrites at every start, and half-written temporary files.
    /// </summary>
    private static bool LeftOut(string relative) =>
        relative is DatabaseFile or "node.db-wal" or "node.db-shm" or "node.db-journal" or "address" or "fingerprint"
        || relative.EndsWith(".tmp", StringComparison.Ordinal);

    public async IAsyncEnumerable<BackupChunk> ChunksAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var o = options.Value;
        var sqlite = store as SqliteStore;
        // The database first: it is the part taken at one instant; the files beside it change
        // rarely (a token rotation), and the node reads them as it finds them at start.
        var database = sqlite?.Snapshot();
        yield return new BackupChunk
        {
            Manifest = new BackupManifest
            {
                NodeId = identity.NodeId,
                Fingerprint = identity.Fingerprint,
                Name = o.Name,
                Database = sqlite is null ? Stores.Postgres : Stores.Sqlite,
                DatabaseDescription = store.Description,
                TakenAt = Timestamp.FromDateTime(DateTime.UtcNow),
                SoftwareVersion = Contracts.SoftwareVersion.Number,
            },
        };
        var root = Path.GetFullPath(o.ResolvedDataDir);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (LeftOut(relative) || new FileInfo(file).LinkTarget is not null)
            {
                continue;
            }
            foreach (var chunk in Split(relative, await File.ReadAllBytesAsync(file, ct)))
            {
                yield return chunk;
            }
        }
        if (database is not null)
        {
            foreach (var chunk in Split(DatabaseFile, database))
            {
                ct.ThrowIfCancellationRequested();
                yield return chunk;
            }
        }
    }

    private static IEnumerable<BackupChunk> Split(string path, byte[] bytes)
    {
        var offset = 0;
        do
        {
            var length = Math.Min(ChunkSize, bytes.Length - offset);
            yield return new BackupChunk { Path = path, Data = ByteString.CopyFrom(bytes, offset, length) };
            offset += length;
        }
        while (offset < bytes.Length);
    }
}
