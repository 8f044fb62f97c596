using Grpc.Core;
using static Federation.Load.Measurements;

namespace Federation.Load;

/// <summary>
/// Figures read against another configuration or another implementation in the same run:
/// the scaled shape against the embedded one (issue 20 #5), and Fedify's fan-out against the
/// node's (issue 20 #6).
/// </summary>
public static class Comparisons
{
    /// <summary>
    /// Submissions with the origin on PostgreSQL against SQLite (issue 20 #5). The SQLite figure
    /// measured earlier in the run is reused; without one, it is measured here first.
    /// </summary>
    public static async Task RunPostgresAsync(Profile p, double unaryBaseline, (double Unary, double Stream)? sqlite, List<Row> rows)
    {
        if (p.Smoke)
        {
            // Starting a cluster and draining a smoke run's streams on it takes about twenty seconds:
            // too slow for the test command's smoke run.
            Skipped(rows, "Submissions on PostgreSQL against SQLite", "not in the smoke profile (starting PostgreSQL and running on it takes about 20 s)");
        }
        else if (LoadPostgres.Missing() is { } noPostgres)
        {
            Skipped(rows, "Submissions on PostgreSQL against SQLite", noPostgres);
        }
        else
        {
            sqlite ??= await RunSubmissionsAsync(p, unaryBaseline, null);
            Report.Progress("Scaled shape: starting a PostgreSQL of the load tool's own (fsync on)…");
            await using var pg = await LoadPostgres.StartAsync();
            var cs = await pg.NewDatabaseAsync("origin");
            Report.Progress("Submissions with the origin on PostgreSQL:");
            (double Unary, double Stream) onPg;
            try
            {
                onPg = await RunSubmissionsAsync(p, unaryBaseline, null, o =>
                {
                    o.Database = "postgres";
                    o.Postgres.ConnectionString = cs;
                });
            }
            catch (Exception ex) when (!p.Smoke && ex is RpcException or InvalidOperationException or TimeoutException)
            {
                // A failed run is a finding, not a figure: the table says so and the rest of the run goes on.
                Failed(rows, "Submissions on PostgreSQL as a share of SQLite (same run)", "≥ 50 %", ex);
                return;
            }
            rows.Add(new Row("Submissions on PostgreSQL: signed, durable, via Submit / via SubmitStream (on SQLite in the same run)",
                $"{Report.F(onPg.Unary)}/s / {Report.F(onPg.Stream)}/s ({Report.F(sqlite.Value.Unary)}/s / {Report.F(sqlite.Value.Stream)}/s)"));
            rows.Add(Report.Ratio("Submissions on PostgreSQL via Submit as a share of SQLite (same run)", onPg.Unary / sqlite.Value.Unary, 0.50));
            rows.Add(Report.Ratio("Submissions on PostgreSQL via SubmitStream as a share of SQLite (same run)", onPg.Stream / sqlite.Value.Stream, 0.50));
        }
    }

    /// <summary>
    /// Fan-out with the origin's bus on RabbitMQ against the in-memory bus (issue 20 #5), at the
    /// largest size up to 1,000 and as many runs. The in-memory figure measured earlier in the run
    /// is reused; without one, it is measured here first.
    /// </summary>
    public static async Task RunRabbitMqAsync(Profile p, double unaryBaseline, List<FanOutPoint>? inMemory, List<Row> rows)
    {
        var (size, runs) = p.FanOutSizes.Zip(p.FanOutRuns).Where(s => s.First <= 1000).MaxBy(s => s.First);
        if (p.Smoke)
        {
            // A broker takes ten seconds or more to boot: too slow for the test command's smoke run.
            Skipped(rows, "Fan-out on RabbitMQ against the in-memory bus", "not in the smoke profile (starting a broker takes ten seconds or more)");
        }
        else if (LoadRabbit.Missing() is { } noRabbit)
        {
            Skipped(rows, "Fan-out on RabbitMQ against the in-memory bus", noRabbit);
        }
        else
        {
            var memory = inMemory?.Find(x => x.Peers == size) ?? (await RunFanOutAsync(p, unaryBaseline, null, [(size, runs)]))[0];
            Report.Progress("Scaled shape: starting a RabbitMQ of the load tool's own…");
            await using var rabbit = await LoadRabbit.StartAsync();
            var broker = rabbit.Pid;
            Report.Progress($"Fan-out with the origin's bus on RabbitMQ (127.0.0.1:{rabbit.Port}):");
            FanOutPoint onRabbit;
            try
            {
                onRabbit = (await RunFanOutAsync(p, unaryBaseline, null, [(size, runs)], o =>
                {
                    o.Bus = "rabbitmq";
                    o.RabbitMq.Host = "127.0.0.1";
                    o.RabbitMq.Port = (ushort)rabbit.Port;
                }, () => ProcCpu.Of(broker)))[0];
            }
            catch (Exception ex) when (!p.Smoke && ex is RpcException or InvalidOperationException or TimeoutException)
            {
                Failed(rows, $"Fan-out to {size:N0} peers on RabbitMQ as a share of the in-memory bus (same run)", "≥ 70 %", ex);
                return;
            }
            rows.Add(new Row($"Fan-out to {size:N0} peers on RabbitMQ: all acknowledged, p50 / p99 ({runs} runs; in-memory bus: p50 {Report.F(memory.P50Ms, "F0")} ms)", $"{Report.F(onRabbit.P50Ms, "F0")} ms / {Report.F(onRabbit.P99Ms, "F0")} ms"));
            rows.Add(new Row($"Fan-out to {size:N0} peers on RabbitMQ: CPU per delivered event (origin + swarm + broker)", $"{Report.F(onRabbit.CpuPerEventUs, "F0")} µs, of which the broker {Report.F(onRabbit.OtherCpuPerEventUs, "F0")} µs (in-memory bus: {Report.F(memory.CpuPerEventUs, "F0")} µs)"));
            rows.Add(Report.Ratio($"Fan-out to {size:N0} peers on RabbitMQ: delivered events/s as a share of the in-memory bus (same run)", onRabbit.DeliveredPerSecond / memory.DeliveredPerSecond, 0.70));
        }
    }

    /// <summary>
    /// Fedify's fan-out to as many inboxes as the node's largest fan-out up to 1,000, as many runs,
    /// against the node's CPU per delivered event (issue 20 #6: ours must be lower).
    /// </summary>
    /// <returns>Fedify's figures (for the plot), or null when it was skipped.</returns>
    public static async Task<FanOutPoint?> RunFedifyAsync(Profile p, double unaryBaseline, List<FanOutPoint>? ours, List<Row> rows)
    {
        var (size, ourRuns) = p.FanOutSizes.Zip(p.FanOutRuns).Where(s => s.First <= 1000).MaxBy(s => s.First);
        // Fedify takes tens of seconds a run at 1,000 inboxes here: fewer runs keep the full run's length in bounds.
        var runs = Math.Min(ourRuns, 3);
        // The smoke profile runs Fedify only where it is installed already (tests/run.sh installs it).
        if (await FedifyFanOut.MissingAsync(install: !p.Smoke) is { } why)
        {
            Skipped(rows, "Fedify's fan-out side by side", why);
            return null;
        }
        var node = ours?.Find(x => x.Peers == size) ?? (await RunFanOutAsync(p, unaryBaseline, null, [(size, ourRuns)]))[0];
        Report.Progress($"Fedify {FedifyFanOut.Version}: starting one Node.js process with {size} inboxes…");
        var times = new List<double>();
        var cpu = TimeSpan.Zero;
        var bits = 0;
        try
        {
            await using var fedify = await FedifyFanOut.StartAsync(size);
            bits = fedify.RsaBits;
            Report.Progress($"Fedify's fan-out to {size} inboxes: {runs} runs (plus one warm-up)…");
            for (var r = -1; r < runs; r++)
            {
                var before = ProcCpu.Of(fedify.Pid);
                var ms = await fedify.RunAsync(size);
                if (r >= 0)
                {
                    times.Add(ms);
                    cpu += ProcCpu.Of(fedify.Pid) - before;
                }
                Report.Progress($"  {(r < 0 ? "warm-up" : $"run {r + 1} of {runs}")}: {Report.F(ms, "F0")} ms");
                await Task.Delay(p.Smoke ? 50 : 200);
            }
        }
        catch (Exception ex) when (!p.Smoke && ex is InvalidOperationException or TimeoutException or IOException)
        {
            Failed(rows, $"Fan-out to {size:N0}: our CPU per delivered event against Fedify's (same run)", "< 1.0×", ex);
            return null;
        }
        times.Sort();
        var theirs = new FanOutPoint(size, runs, Report.Quantile(times, 0.5), Report.Quantile(times, 0.99), cpu.TotalMicroseconds / (size * (double)runs));
        Report.Progress($"  p50 {Report.F(theirs.P50Ms, "F0")} ms, p99 {Report.F(theirs.P99Ms, "F0")} ms, {Report.F(theirs.CpuPerEventUs, "F0")} µs CPU per delivered event");
        rows.Add(new Row($"Fedify {FedifyFanOut.Version} (RSA-{bits}): fan-out to {size:N0} inboxes, all verified, p50 / p99 ({runs} runs)", $"{Report.F(theirs.P50Ms, "F0")} ms / {Report.F(theirs.P99Ms, "F0")} ms"));
        rows.Add(new Row($"Fedify {FedifyFanOut.Version} (RSA-{bits}): CPU per delivered event (sender + inboxes, one process)", $"{Report.F(theirs.CpuPerEventUs, "F0")} µs"));
        var ratio = node.CpuPerEventUs / theirs.CpuPerEventUs;
        rows.Add(new Row($"Fan-out to {size:N0}: our CPU per delivered event against Fedify's (same run)", $"{Report.F(ratio, "F2")}× ({Report.F(node.CpuPerEventUs, "F0")} µs against {Report.F(theirs.CpuPerEventUs, "F0")} µs)", "< 1.0×", ratio < 1.0));
        return theirs;
    }

    /// <summary>
    /// A measurement that ran and failed in the full profile: missed, with the first line of why
    /// (the whole of it on stderr). In the smoke profile a failure fails the run, as it is there to catch one.
    /// </summary>
    private static void Failed(List<Row> rows, string what, string target, Exception ex)
    {
        Report.Progress($"{what}: FAILED: {ex.Message.Split('\n')[0]}");
        Console.Error.WriteLine(ex);
        rows.Add(new Row(what, $"failed: {ex.Message.Split('\n')[0]}", target, false));
    }

    /// <summary>A measurement that could not run here: said so in the table, with no figure.</summary>
    private static void Skipped(List<Row> rows, string what, string why)
    {
        Report.Progress($"{what}: skipped: {why}");
        rows.Add(new Row(what, $"skipped: {why}"));
    }
}
