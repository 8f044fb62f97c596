using System.Diagnostics;
using Federation.Contracts;

namespace Federation.Testing;

/// <summary>
/// The latest release before this build, unpacked from its source recorded in
/// tests/releases/ (tests/releases/record.sh; CI's clone carries no tags or history) into
/// artifacts/ and built once (later runs reuse it), so that tests can run a federation of
/// two releases (docs/protocol.md "Compatibility").
/// </summary>
public static class PreviousRelease
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static (string Tag, string NodeDll)? _built;

    /// <summary>The release's tag and its built node.</summary>
    public static async Task<(string Tag, string NodeDll)> BuildAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _built ??= await UnpackAndBuildAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<(string Tag, string NodeDll)> UnpackAndBuildAsync()
    {
        var root = Built.Root;
        // The newest recorded vX.Y.Z that is not this build's own number.
        var archive = Directory.GetFiles(Path.Combine(root, "tests", "releases"), "v*.tar.gz")
            .Select(path => (Path: path, Tag: Path.GetFileName(path)[..^".tar.gz".Length]))
            .Where(r => r.Tag != $"v{SoftwareVersion.Number}" && Version.TryParse(r.Tag[1..], out _))
            .OrderByDescending(r => Version.Parse(r.Tag[1..]))
            .FirstOrDefault();
        if (archive.Path is null)
        {
            throw new InvalidOperationException("No earlier release recorded in tests/releases/ to test against (bash tests/releases/record.sh vX.Y.Z).");
        }
        var tag = archive.Tag;
        var dir = Path.Combine(root, "artifacts", "previous-release", tag);
        var dll = Path.Combine(dir, "src", "Federation.Node", "bin", "Release", "net10.0", "federation-node.dll");
        var done = Path.Combine(dir, ".built");
        if (File.Exists(done) && File.Exists(dll))
        {
            return (tag, dll);
        }
        if (Directory.Exists(dir))
        {
            // An unpacking or build that was interrupted: start it again.
            Directory.Delete(dir, recursive: true);
        }
        Directory.CreateDirectory(dir);
        await RunAsync(dir, "tar", ["-xzf", archive.Path]);
        // The archive names the release's commit; without it the build would take the
        // commit of the repository it was unpacked in.
        var commit = (await RunAsync(root, "sh", ["-c", "gzip -dc \"$0\" | git get-tar-commit-id", archive.Path], mayFail: true)).Trim();
        await RunAsync(dir, Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            ["build", Path.Combine("src", "Federation.Node"), "-c", "Release", "-nologo", "-clp:ErrorsOnly",
             $"-p:SourceRevisionId={commit}", "-p:EnableSourceControlManagerQueries=false"], timeout: TimeSpan.FromMinutes(20));
        await File.WriteAllTextAsync(done, tag + "\n");
        return (tag, dll);
    }

    private static async Task<string> RunAsync(string cwd, string file, string[] args, bool mayFail = false, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        var stdout = p.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = p.StandardError.ReadToEndAsync(cts.Token);
        await p.WaitForExitAsync(cts.Token);
        if (p.ExitCode != 0 && !mayFail)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}):\n{await stdout}\n{await stderr}");
        }
        return await stdout;
    }
}
