using Federation.Load;

if (args is [BareServer.Flag, var barePort])
{
    return await BareServer.RunAsync(int.Parse(barePort, System.Globalization.CultureInfo.InvariantCulture));
}
if (args is [SwarmProcess.Flag, var members])
{
    return await SwarmProcess.RunAsync(int.Parse(members, System.Globalization.CultureInfo.InvariantCulture));
}

// The load tool. Full profile (a few minutes):  dotnet run -c Release --project bench/Federation.Load
// Smoke profile (seconds, run by tests/run.sh): dotnet run -c Release --project bench/Federation.Load -- --smoke
var smoke = args.Contains("--smoke");
var profile = smoke ? Profile.SmokeProfile : Profile.Full;
var rows = new List<Row>();
Report.Progress($"Federation load run, {(smoke ? "smoke" : "full")} profile, {Environment.ProcessorCount} cores");

// The baseline carries as many bytes as a real submission call does.
using var sizer = Federation.Contracts.SigningKey.Create(Federation.Contracts.V1.SignatureAlgorithm.Ed25519);
var payloadBytes = Swarm.Pledge(new Swarm.Member(0, sizer), Federation.Domain.Identifiers.NewObjectId(new string('0', 32))).CalculateSize();

// The table and the plots are also written to files, beside each other: `--out DIR`, or artifacts/load[-smoke].
var outDir = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault()
    ?? Path.Combine(Built.Root, "artifacts", smoke ? "load-smoke" : "load");
var fanOut = (List<Measurements.FanOutPoint>?)null;
Measurements.FanOutPoint? fedify = null;
var catchUp = new List<(double Seconds, long Held)>();

try
{
    // `--only submissions,fanout` runs some measurements (the baseline always runs: the others are read against it).
    var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault()?.Split(',')
        ?? ["submissions", "postgres", "fanout", "rabbitmq", "fedify", "catchup", "footprint"];
    var (unary, _) = await Baseline.RunAsync(profile, payloadBytes, rows);
    (double Unary, double Stream)? sqlite = null;
    if (only.Contains("submissions"))
    {
        var off = await Measurements.RunSubmissionsAsync(profile, unary, rows);
        sqlite = off;
        // Sealing on against off in the same run (issue 24), as every figure is read against another of its run.
        var on = await Measurements.RunSubmissionsAsync(profile, unary, null, LoadNode.Sealing(true));
        Report.SealingRatio(rows, "Submissions via Submit", on.Unary / off.Unary);
        Report.SealingRatio(rows, "Submissions via SubmitStream", on.Stream / off.Stream);
    }
    if (only.Contains("postgres"))
    {
        // The scaled shape (issue 20 #5), each half right after the embedded figure it is read against.
        await Comparisons.RunPostgresAsync(profile, unary, sqlite, rows);
    }
    if (only.Contains("fanout"))
    {
        fanOut = await Measurements.RunFanOutAsync(profile, unary, rows);
    }
    if (only.Contains("rabbitmq"))
    {
        await Comparisons.RunRabbitMqAsync(profile, unary, fanOut, rows);
    }
    if (only.Contains("fedify"))
    {
        fedify = await Comparisons.RunFedifyAsync(profile, unary, fanOut, rows);
    }
    if (only.Contains("catchup"))
    {
        var off = await Measurements.RunCatchUpAsync(profile, rows, progress: catchUp);
        var on = await Measurements.RunCatchUpAsync(profile, rows, sealing: true);
        // A rate's ratio: off's time over on's, so 100 % means sealing costs nothing here too.
        Report.SealingRatio(rows, "Catch-up", off / on);
    }
    if (only.Contains("footprint"))
    {
        await Footprint.RunAsync(profile, rows);
    }
}
catch (Exception ex)
{
    Console.WriteLine();
    Console.WriteLine(Report.Table(rows, smoke));
    Console.Error.WriteLine($"The load run failed: {ex}");
    return 1;
}
var table = Report.Table(rows, smoke);
Console.WriteLine();
Console.WriteLine(table);
// Beside the table: the same figures drawn (docs/performance.md shows the full run's).
Directory.CreateDirectory(outDir);
await File.WriteAllTextAsync(Path.Combine(outDir, "load.md"), table);
if (fanOut is { Count: > 0 })
{
    Plots.FanOut(Path.Combine(outDir, "fanout.png"), fanOut, fedify);
}
if (catchUp.Count > 0)
{
    Plots.CatchUp(Path.Combine(outDir, "catchup.png"), catchUp, catchUp[^1].Held);
}
Report.Progress(fanOut is { Count: > 0 } || catchUp.Count > 0 ? $"The table and its plots are in {outDir}" : $"The table is in {outDir}");
return 0;

namespace Federation.Load
{
    /// <summary>How big each measurement is: the full profile for real figures, the smoke one to prove it all still runs.</summary>
    public sealed record Profile(
        bool Smoke,
        int Callers,
        TimeSpan Warmup,
        TimeSpan WarmupMax,
        TimeSpan Window,
        int SubmissionPool,
        int SubmitCallOuts,
        int[] FanOutSizes,
        int[] FanOutRuns,
        int CatchUpObjects,
        int CatchUpEvents,
        int FootprintStarts,
        TimeSpan Idle)
    {
        public static readonly Profile Full = new(false, 128, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), 150_000, 64,
            [10, 100, 1000, 10_000], [30, 20, 10, 2], 100, 100_000, 4, TimeSpan.FromSeconds(5));

        public static readonly Profile SmokeProfile = new(true, 8, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500), 2_000, 4,
            [10], [2], 4, 40, 2, TimeSpan.FromMilliseconds(200));
    }
}
