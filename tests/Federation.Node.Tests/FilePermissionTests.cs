using System.Runtime.Versioning;
using Federation.Contracts.V1;
using Federation.Testing;

namespace Federation.Node.Tests;

/// <summary>
/// Nothing a node or solnet writes is readable by other users of the machine
/// (docs/security.md, "Files").
/// </summary>
[UnsupportedOSPlatform("windows")] // Unix modes; Windows has ACLs, which these tests do not cover
public sealed class FilePermissionTests
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task TheDataFolderAndEveryFileInItAreTheNodesUsersOnly()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>());
        await node.StartAgainAsync();
        // A write, so SQLite has made its write-ahead log and shared-memory files.
        await node.Delegate.CreateTokenAsync(new CreateTokenRequest { Holder = "Sam", Role = "delegate" }, node.Auth);

        AssertPrivate(node.DataDir, "node.db", "node.db-wal", "node.db-shm", "node.key", "operator.token", "address", "fingerprint");
    }

    [Fact]
    public async Task AFolderLeftOpenByAnOlderVersionIsClosedAtStart()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>());
        await node.StartAgainAsync();
        node.Kill();
        var dir = node.DataDir;
        // As a node before this fix, or a copy restored from a backup, left them.
        File.SetUnixFileMode(Path.Combine(dir, "node.db"), Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(Path.Combine(dir, "operator.token"), Private | UnixFileMode.OtherRead);
        File.SetUnixFileMode(dir, Folder | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        await node.StartAgainAsync();

        AssertPrivate(dir, "node.db", "operator.token");
    }

    [Fact]
    public async Task ACalendarExportIsWrittenForItsUserOnlyEvenOverAnOpenFile()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>());
        await node.StartAgainAsync();
        var folder = Directory.CreateTempSubdirectory("fed-export-").FullName;
        var fresh = Path.Combine(folder, "pledges.ics");
        var replaced = Path.Combine(folder, "old.ics");
        File.WriteAllText(replaced, "");
        File.SetUnixFileMode(replaced, Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        foreach (var file in new[] { fresh, replaced })
        {
            var result = await Solnet.RunAsync(node.DataDir, "callout", "calendar", "--out", file);
            Assert.True(result.ExitCode == 0, result.Error);
            Assert.Equal(Private, File.GetUnixFileMode(file));
        }
    }

    private static void AssertPrivate(string dataDir, params string[] expected)
    {
        Assert.Equal(Folder, File.GetUnixFileMode(dataDir));
        foreach (var name in expected)
        {
            Assert.True(File.Exists(Path.Combine(dataDir, name)), $"{name} is not in the data folder");
        }
        foreach (var entry in new DirectoryInfo(dataDir).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            Assert.True(entry.UnixFileMode == (entry is DirectoryInfo ? Folder : Private), $"{entry.Name} is {entry.UnixFileMode}");
        }
    }
}
