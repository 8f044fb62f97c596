using System.Diagnostics;
using Federation.Contracts;

namespace Federation.Testing;

/// <summary>
/// The latest release before this build, checked out from its git tag into a worktree
/// under artifacts/ and built once (later runs reuse it), so that tests can run a
/// federation of two releases (docs/protocol.md "Compatibility").
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
            return _built ??= await CheckOutAndBuildAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<(string Tag, string NodeDll)> CheckOutAndBuildAsync()
    {
        var root = Built.Root;
        // The newest vX.Y.Z that is not this build's own number.
        var tags = (await RunAsync(root, "git", ["tag", "--list", "v[0-9]*", "--sort=-v:refname"]))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var tag = tags.FirstOrDefault(t => t != $"v{SoftwareVersion.Number}")
            ?? throw new InvalidOperationException("No earlier release tag (vX.Y.Z) in this clone to test against; `git fetch --tags`.");
        var dir = Path.Combine(root, "artifacts", "previous-release", tag);
        var dll = Path.Combine(dir, "src", "Federation.Node", "bin", "Release", "net10.0", "federation-node.dll");
        var done = Path.Combine(dir, ".built");
        if (File.Exists(done) && File.Exists(dll))
        {
            return (tag, dll);
        }
        if (Directory.Exists(dir))
        {
            // A checkout or build that was interrupted: start it again.
            await RunAsync(root, "git", ["worktree", "remove", "--force", dir], mayFail: true);
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        await RunAsync(root, "git", ["worktree", "prune"]);
        await RunAsync(root, "git", ["worktree", "add", "--detach", dir, tag]);
        await RunAsync(dir, Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            ["build", Path.Combine("src", "Federation.Node"), "-c", "Release", "-nologo", "-clp:ErrorsOnly"], timeout: TimeSpan.FromMinutes(20));
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
