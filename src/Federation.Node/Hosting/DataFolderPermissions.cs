using System.Runtime.InteropServices;

namespace Federation.Node.Hosting;

/// <summary>
/// The data folder holds the identity key, the operator token, the database and the
/// dashboard keys: nobody but the node's user may read any of it, at any moment
/// (docs/security.md, "Files").
/// </summary>
public static class DataFolderPermissions
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Sets the process's umask to 077 before anything is opened. Setting a mode after
    /// writing leaves a moment in which others may open the file, and SQLite creates its
    /// -wal and -shm files itself, with the mode of the database file filtered by the
    /// umask: the umask is the one place that covers every file the process makes.
    /// </summary>
    public static void RestrictUmask()
    {
        if (!OperatingSystem.IsWindows())
        {
            Umask(0b000_111_111); // 077: no bits for group or others
        }
    }

    /// <summary>
    /// Creates the folder 0700, or tightens a folder made by an older version (or copied in
    /// by the operator): the folder and what is in it become the node's user's only.
    /// </summary>
    public static void Secure(string dataDir)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dataDir);
            return;
        }
        var root = Directory.CreateDirectory(dataDir, Folder);
        root.UnixFileMode = Folder;
        foreach (var entry in root.EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            if (entry.LinkTarget is null)
            {
                entry.UnixFileMode = entry is DirectoryInfo ? Folder : File;
            }
        }
    }

    // DllImport, not LibraryImport: the generated form needs unsafe code on for the whole
    // project, for one call with no pointers in it.
    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);
}
