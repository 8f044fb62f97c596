using System.Diagnostics;
using Federation.Faults.Tests.Harness;
using Xunit.Abstractions;

namespace Federation.Faults.Tests;

/// <summary>
/// One federation for every scenario, on the suite's own broker: starting four node
/// processes and peering them costs half a minute on a busy machine, so scenarios share
/// it, one at a time, each starting from a healed, converged federation. Half the nodes
/// declare quorum queues and half classic ones, so every scenario runs on both kinds.
/// The workload is shared too: it keeps creating on top of what earlier scenarios made
/// (accepting their fights, responding to their call-outs), and the checker holds every
/// scenario to everything acknowledged since the start. The fourth node (delta) keeps
/// its data in PostgreSQL, on a cluster of the suite's own, and the others in SQLite, so
/// every scenario runs on both storage engines.
/// </summary>
public sealed class FederationFixture : IAsyncLifetime
{
    /// <summary>Index of the node on PostgreSQL.</summary>
    public const int PostgresNode = 3;

    /// <summary>Index of the node that seals at rest (issue 24), with its storage key unlocked at start.</summary>
    public const int SealedNode = 2;

    public Rabbit Broker { get; private set; } = null!;
    public Postgres Database { get; private set; } = null!;
    public Cluster Cluster { get; private set; } = null!;
    public Workload Workload { get; private set; } = null!;
    private readonly Dictionary<FaultNode, Dictionary<string, string>> _baseline = [];
    private readonly List<FaultNode> _retired = [];

    public async Task InitializeAsync()
    {
        // Both boot in parallel: each takes seconds.
        var broker = Rabbit.StartAsync();
        var database = Postgres.StartAsync();
        Broker = await broker;
        Database = await database;
        await Database.CreateDatabaseAsync("delta");
        Cluster = await Cluster.StartAsync(Broker, Profile.Current.Nodes, (i, s) =>
        {
            s["Node__RabbitMq__QuorumQueues"] = i % 2 == 0 ? "true" : "false";
            if (i == PostgresNode)
            {
                s["Node__Database"] = "postgres";
                s["Node__Postgres__ConnectionString"] = Database.ConnectionString("delta");
            }
            // Small batches: a fan-out takes several calls per peer, so a kill can land inside it.
            s["Node__DeliveryBatchSize"] = "4";
            if (i == SealedNode)
            {
                // Seals at rest (issue 24), unlocked at start: every scenario runs with one such node.
                s[FaultNode.UnlockAtStart.Key] = FaultNode.UnlockAtStart.Value;
            }
        });
        foreach (var n in Cluster.Nodes)
        {
            _baseline[n] = new Dictionary<string, string>(n.Settings);
        }
        Workload = new Workload(Cluster.Nodes);
    }

    /// <summary>
    /// Undoes whatever a scenario left behind (it heals its own faults; this covers one
    /// that failed halfway): broker up, network clean, every node running with the
    /// baseline settings, then waits for the federation to converge.
    /// </summary>
    public async Task ReadyAsync()
    {
        if (!File.Exists(Path.Combine(Broker.Dir, "rabbit.pid")) || !Unix.Alive(Broker.Pid))
        {
            await Broker.StartAgainAsync();
        }
        if (!Database.Running)
        {
            await Database.StartAgainAsync();
        }
        Cluster.HealNetwork();
        await Task.WhenAll(Cluster.Nodes.Select(async n =>
        {
            var baseline = _baseline[n];
            if (n.Settings.Count != baseline.Count || n.Settings.Any(kv => !baseline.TryGetValue(kv.Key, out var v) || v != kv.Value))
            {
                await Cluster.RestartAsync(n, s =>
                {
                    s.Clear();
                    foreach (var (k, v) in baseline)
                    {
                        s[k] = v;
                    }
                });
            }
            else if (n.Paused)
            {
                n.Resume();
            }
            else if (!n.Running)
            {
                await n.StartAsync();
            }
        }));
        var until = DateTime.UtcNow + Profile.Current.Converge;
        Checker.Result result;
        while (!(result = Checker.Check(Cluster.Nodes, Workload)).Converged)
        {
            if (DateTime.UtcNow > until)
            {
                throw new InvalidOperationException($"The federation did not converge before the scenario: {result}\n{Cluster.Logs()}");
            }
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// A network moved to a new server (the seizure drills): <paramref name="to"/> takes
    /// <paramref name="from"/>'s place in the federation (<see cref="Cluster.MoveAsync"/>),
    /// and its settings become the baseline later scenarios start from. The seized server's
    /// process stays dead; its folder and log are kept until the suite ends.
    /// </summary>
    public async Task MoveAsync(FaultNode from, FaultNode to)
    {
        await Cluster.MoveAsync(from, to);
        _baseline.Remove(from);
        _baseline[to] = new Dictionary<string, string>(to.Settings);
        _retired.Add(from);
    }

    public async Task DisposeAsync()
    {
        foreach (var n in _retired)
        {
            await n.DisposeAsync();
        }
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultsCollection : ICollectionFixture<FederationFixture>
{
    public const string Name = "Faults";
}

/// <summary>What every scenario does: start from a converged federation, work, fault, heal, check.</summary>
public abstract class Suite(FederationFixture fixture, ITestOutputHelper output)
{
    protected static readonly Profile P = Profile.Current;

    protected Rabbit Broker => fixture.Broker;

    protected Postgres Database => fixture.Database;

    protected ITestOutputHelper Output => output;

    /// <summary>The federation after a network moved to a new server: see <see cref="FederationFixture.MoveAsync"/>.</summary>
    protected Task MoveAsync(FaultNode from, FaultNode to) => fixture.MoveAsync(from, to);

    /// <summary>The shared federation, healed and converged, with some fresh work done on it.</summary>
    protected async Task<(Cluster, Workload)> BeginAsync()
    {
        await fixture.ReadyAsync();
        await fixture.Workload.RunAsync(P.WorkBefore, P.WorkPause);
        return (fixture.Cluster, fixture.Workload);
    }

    /// <summary>
    /// From the moment faults healed, polls the checker until the federation has converged
    /// (every event everywhere it belongs, exactly once, signed by its origin, no gap, no
    /// backlog), within the profile's bound. Asserts each count, records the time taken.
    /// </summary>
    protected async Task<TimeSpan> ConvergeAsync(string scenario, Cluster cluster, Workload workload, Stopwatch sinceHeal)
    {
        Checker.Result result;
        while (true)
        {
            result = Checker.Check(cluster.Nodes, workload);
            if (result.Converged || sinceHeal.Elapsed > P.Converge)
            {
                break;
            }
            await Task.Delay(250);
        }
        var took = sinceHeal.Elapsed;
        output.WriteLine($"{scenario}: {result}; {workload}; converged in {took.TotalSeconds:0.0}s");
        var context = $"{scenario} after {took.TotalSeconds:0}s (bound {P.Converge.TotalSeconds:0}s): {result}\n{workload}";
        Assert.True(result.Lost == 0, "lost: " + context);
        Assert.True(result.AppliedTwice == 0, "applied twice: " + context);
        Assert.True(result.Unexpected == 0, "unexpected: " + context);
        Assert.True(result.Gaps == 0, "gaps: " + context);
        Assert.True(result.Converged, "did not converge (backlog left): " + context + "\n" + cluster.Logs());
        Assert.True(result.Events > 0 && workload.AckedCount > 0, "the workload did nothing: " + context);
        Record(scenario, took, result, workload);
        return took;
    }

    /// <summary>
    /// Measured convergence times go to FED_FAULTS_RESULTS (default: fed-faults-results.tsv
    /// in the temp folder), one line per scenario, for the table in docs/faults.md.
    /// </summary>
    private static void Record(string scenario, TimeSpan took, Checker.Result result, Workload workload)
    {
        var path = Environment.GetEnvironmentVariable("FED_FAULTS_RESULTS") is { Length: > 0 } p
            ? p : Path.Combine(Path.GetTempPath(), "fed-faults-results.tsv");
        File.AppendAllText(path, $"{DateTime.UtcNow:u}\t{P.Name}\t{scenario}\t{took.TotalSeconds:0.0}\t{result.Events}\t{workload.AckedCount}\n");
    }

    /// <summary>Runs the workload in the background while <paramref name="fault"/> lasts; returns when it is over.</summary>
    protected static async Task WhileWorkingAsync(Workload workload, Func<Task> fault)
    {
        using var stop = new CancellationTokenSource();
        var running = workload.RunUntilAsync(P.WorkPause, stop.Token);
        try
        {
            await fault();
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    /// <summary>
    /// How long the fault lasts (the profile's), with the workload running. Not a wait for
    /// a condition: the fault's length is the point of the scenario.
    /// </summary>
    protected static Task HoldAsync(TimeSpan? atLeast = null) => Task.Delay(atLeast is { } t && t > P.Fault ? t : P.Fault);

    protected static Task UntilAsync(Func<bool> condition, string what, Cluster cluster, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(condition, timeout ?? TimeSpan.FromSeconds(90), what, cluster.Logs);
}
