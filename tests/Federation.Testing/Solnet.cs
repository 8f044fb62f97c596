using System.Diagnostics;

namespace Federation.Testing;

/// <summary>Runs the built solnet command line, as an operator would.</summary>
public static class Solnet
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Task<Result> RunAsync(string dataDir, params string[] args) => RunWithoutDataAsync(["--data", dataDir, .. args]);

    /// <summary>As at a terminal <paramref name="columns"/> wide (COLUMNS, which solnet honours even when its output is read by a program).</summary>
    public static Task<Result> RunAtWidthAsync(int columns, string dataDir, params string[] args) =>
        RunWithoutDataAsync(["--data", dataDir, .. args], new() { ["COLUMNS"] = $"{columns}" });

    public static async Task<Result> RunWithoutDataAsync(string[] args, Dictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Built.CliDll);
        // No stray settings from the machine's own environment or config file.
        psi.Environment["SOLNET_CONFIG"] = Path.Combine(Path.GetTempPath(), "solnet-tests-no-config");
        psi.Environment.Remove("SOLNET_NODE");
        psi.Environment.Remove("SOLNET_TOKEN");
        psi.Environment.Remove("SOLNET_DATA");
        psi.Environment.Remove("SOLNET_FINGERPRINT");
        psi.Environment.Remove("COLUMNS");
        foreach (var (name, value) in environment ?? [])
        {
            psi.Environment[name] = value;
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = p.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = p.StandardError.ReadToEndAsync(timeout.Token);
        await p.WaitForExitAsync(timeout.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
