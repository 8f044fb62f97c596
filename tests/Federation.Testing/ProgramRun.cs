using System.Diagnostics;

namespace Federation.Testing;

/// <summary>Runs a program from the machine (systemd-analyze, docker-compose, the node's own commands) to its end.</summary>
public static class ProgramRun
{
    /// <returns>Its exit code, and what it wrote to standard output and error, in that order.</returns>
    /// <param name="missing">What to say if the program is not installed: where it comes from.</param>
    public static async Task<(int Exit, string Output)> RunAsync(string program, IEnumerable<string> args, string missing)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"{program} is missing: {missing}");
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            return (p.ExitCode, await stdout + await stderr);
        }
    }
}
