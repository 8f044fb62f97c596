namespace Federation.Faults.Tests.Harness;

/// <summary>
/// How hard the scenarios push. The short profile runs in CI (every scenario, a few
/// seconds of fault each). The long one runs by
/// <c>FED_FAULTS_PROFILE=long dotnet test tests/Federation.Faults.Tests</c>: more nodes,
/// faults that last minutes, more work.
/// </summary>
public sealed record Profile(string Name, int Nodes, TimeSpan Fault, TimeSpan Converge, int WorkBefore, TimeSpan WorkPause)
{
    /// <summary>
    /// Convergence bounds are generous on purpose: CI machines are shared and slow, and
    /// these tests assert counts (nothing lost, nothing twice), not speed.
    /// </summary>
    public static readonly Profile Short = new("short", Nodes: 4, Fault: TimeSpan.FromSeconds(6), Converge: TimeSpan.FromSeconds(120),
        WorkBefore: 8, WorkPause: TimeSpan.FromMilliseconds(40));

    public static readonly Profile Long = new("long", Nodes: 6, Fault: TimeSpan.FromMinutes(3), Converge: TimeSpan.FromMinutes(10),
        WorkBefore: 40, WorkPause: TimeSpan.FromMilliseconds(100));

    public static Profile Current => Environment.GetEnvironmentVariable("FED_FAULTS_PROFILE")?.Trim().ToLowerInvariant() switch
    {
        "long" => Long,
        null or "" or "short" => Short,
        var other => throw new InvalidOperationException($"FED_FAULTS_PROFILE={other}: use short or long."),
    };
}
