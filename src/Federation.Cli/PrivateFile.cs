namespace Federation.Cli;

/// <summary>
/// Files solnet writes with what the node shared with a delegate (calendar exports, its own
/// settings with a token, bundles): readable by their user only, from the moment they exist.
/// </summary>
public static class PrivateFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static async Task WriteAllTextAsync(string path, string text, CancellationToken ct)
    {
        await using var stream = Open(path);
        await using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false));
        await writer.WriteAsync(text.AsMemory(), ct);
    }

    public static async Task WriteAllBytesAsync(string path, byte[] bytes, CancellationToken ct)
    {
        await using var stream = Open(path);
        await stream.WriteAsync(bytes, ct);
    }

    private static FileStream Open(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path))
        {
            // UnixCreateMode applies only to a new file: a file being replaced is narrowed
            // before anything is written into it.
            File.SetUnixFileMode(path, OwnerOnly);
        }
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }
        return new FileStream(path, options);
    }

    public static void WriteAllText(string path, string text) =>
        WriteAllTextAsync(path, text, CancellationToken.None).GetAwaiter().GetResult();
}
