using System.Runtime.InteropServices;

namespace Federation.Faults.Tests.Harness;

/// <summary>Signals to processes this harness started: kill, pause, resume.</summary>
internal static class Unix
{
    // Linux numbering (x86-64 and arm64 agree on these three).
    public const int SigKill = 9;
    public const int SigCont = 18;
    public const int SigStop = 19;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public static bool Alive(int pid) => Kill(pid, 0) == 0;
}
