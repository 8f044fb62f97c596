using Federation.Load;

if (args is [BareServer.Flag, var barePort])
{
    return await BareServer.RunAsync(int.Parse(barePort, System.Globalization.CultureInfo.InvariantCulture));
}

// The load tool. Full profile (a few minutes):  dotnet run -c Release --project bench/Federation.Load
// Smoke profile (seconds, run by tests/run.sh): dotnet run -c Release --project bench/Federation.Load -- --smoke
var smoke = args.Contains("--smoke");
var profile = smoke ? Profile.SmokeProfile : Profile.Full;
var rows = new List<Row>();
Report.Progress($"Federation load run, {(smoke ? "smoke" : "full")} profile, {Environment.ProcessorCount} cores");

// The baseline carries as many bytes as a real submission call does.
using var sizer = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
var payloadBytes = Swarm.Pledge(new Swarm.Member(0, sizer), Federation.Domain.Identifiers.NewObjectId(new string('0', 32))).CalculateSize();

try
{
    // `--only submissions,fanout` runs some measurements (the baseline always runs: the others are read against it).
    var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault()?.Split(',') ?? ["submissions", "fanout", "catchup", "footprint"];
    var (unary, _) = await Baseline.RunAsync(profile, payloadBytes, rows);
    if (only.Contains("submissions"))
    {
        var off = await Measurements.RunSubmissionsAsync(profile, unary, rows);
        // Sealing on against off in the same run (issue 24), as every figure is read against another of its run.
        var on = await Measurements.RunSubmissionsAsync(profile, unary, rows, sealing: true);
        Report.SealingRatio(rows, "Submissions via Submit", on.Unary / off.Unary);
        Report.SealingRatio(rows, "Submissions via SubmitStream", on.Stream / off.Stream);
    }
    if (only.Contains("fanout"))
    {
        await Measurements.RunFanOutAsync(profile, unary, rows);
    }
    if (only.Contains("catchup"))
    {
        var off = await Measurements.RunCatchUpAsync(profile, rows);
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
Console.WriteLine();
Console.WriteLine(Report.Table(rows, smoke));
return 0;

namespace Federation.Load
{
    /// <summary>How big each measurement is: the full profile for real figures, the smoke one to prove it all still runs.</summary>
    public sealed record Profile(
        bool Smoke,
        int Callers,
        TimeSpan Warmup,
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
        public static readonly Profile Full = new(false, 128, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), 100_000, 64,
            [10, 100, 1000], [30, 20, 10], 100, 100_000, 4, TimeSpan.FromSeconds(5));

        public static readonly Profile SmokeProfile = new(true, 8, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500), 2_000, 4,
            [10], [2], 4, 40, 2, TimeSpan.FromMilliseconds(200));
    }
}
