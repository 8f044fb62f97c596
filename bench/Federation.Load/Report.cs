using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Federation.Load;

/// <summary>One row of the results table.</summary>
public sealed record Row(string Measurement, string Result, string Target = "", bool? Met = null);

/// <summary>Progress lines while the run goes on, and the Markdown table at the end.</summary>
public static class Report
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    private static readonly List<double> Loads = [];

    public static void Progress(string line)
    {
        SampleLoad();
        Console.WriteLine($"[{Clock.Elapsed.TotalSeconds,6:F1}s] {line}");
    }

    /// <summary>
    /// The machine's one-minute load average, read at every progress line: the table gives its
    /// range, since absolute figures on a shared machine mean little without it.
    /// </summary>
    private static void SampleLoad()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            lock (Loads)
            {
                Loads.Add(double.Parse(first, CultureInfo.InvariantCulture));
            }
        }
        catch (IOException)
        {
            // not Linux: no load average to give
        }
    }

    private static string LoadRange()
    {
        SampleLoad();
        lock (Loads)
        {
            return Loads.Count == 0 ? "load average not known"
                : $"one-minute load average {F(Loads.Min(), "F1")} to {F(Loads.Max(), "F1")} during the run (median {F(Quantile(Loads.Order().ToList(), 0.5), "F1")})";
        }
    }

    public static string F(double v, string format = "N0") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The two rows of one way of submitting: its rate, and that rate against the unary baseline of the same run.</summary>
    /// <param name="target">The share of the baseline to reach (issue 20 #1): every target is a ratio to something measured in the same run.</param>
    public static void Submissions(List<Row> rows, string method, string how, double rate, double unaryBaseline, long stored, double target)
    {
        var ratio = rate / unaryBaseline;
        Progress($"  {F(rate)} submissions/s ({F(ratio * 100, "F1")} % of unary baseline); {F(stored)} events stored");
        rows.Add(Ratio($"Submissions via {method} as a share of the unary baseline", ratio, target));
        rows.Add(new Row($"Submissions: signed, durable, via PeerService.{method} ({how})", $"{F(rate)}/s"));
    }

    /// <summary>A ratio row: the result as a percentage, met when at least <paramref name="atLeast"/>.</summary>
    public static Row Ratio(string what, double ratio, double atLeast) =>
        new(what, $"{F(ratio * 100, "F1")} %", $"≥ {F(atLeast * 100, "F0")} %", ratio >= atLeast);

    /// <summary>A ratio row met when at most <paramref name="atMost"/> (a cost against a yardstick).</summary>
    public static Row RatioAtMost(string what, double ratio, double atMost) =>
        new(what, $"{F(ratio, "F2")}×", $"≤ {F(atMost, "F1")}×", ratio <= atMost);

    /// <summary>
    /// A rate with the nodes sealing at rest (issue 24) as a share of the same without, in the
    /// same run. These paths carry the public tier, so this is what sealing adds to them: the
    /// storage key's checks, not the sealing of participants-only texts (docs/performance.md).
    /// </summary>
    public static void SealingRatio(List<Row> rows, string what, double ratio)
    {
        Progress($"  {what} with sealing on: {F(ratio * 100, "F1")} % of sealing off");
        rows.Add(new Row($"{what} with sealing at rest on, as a share of sealing off (same run)", $"{F(ratio * 100, "F1")} %", "≥ 90 %", ratio >= 0.9));
    }

    /// <summary>
    /// The results as Markdown: the ratios to their yardsticks in the same run first (each with its
    /// target), then the absolute figures they were computed from.
    /// </summary>
    public static string Table(IEnumerable<Row> rows, bool smoke)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture}, .NET {Environment.Version}; {LoadRange()}; profile: {(smoke ? "smoke (tiny sizes: the figures mean nothing)" : "full")}; {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z");
        var (ratios, figures) = (rows.Where(r => r.Target.Length > 0 || r.Result.StartsWith("skipped", StringComparison.Ordinal)).ToList(), rows.Where(r => r.Target.Length == 0 && !r.Result.StartsWith("skipped", StringComparison.Ordinal)).ToList());
        sb.AppendLine();
        sb.AppendLine("| Ratio (same run) | Result | Target | Met |");
        sb.AppendLine("| --- | --- | --- | --- |");
        foreach (var r in ratios)
        {
            var met = r.Met switch { true => "yes", false => "**no**", null => "" };
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Measurement} | {r.Result} | {r.Target} | {(smoke ? "" : met)} |");
        }
        sb.AppendLine();
        sb.AppendLine("| Absolute figure (read with the load above) | Result |");
        sb.AppendLine("| --- | --- |");
        foreach (var r in figures)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Measurement} | {r.Result} |");
        }
        return sb.ToString();
    }

    /// <summary>The value at quantile <paramref name="q"/> of <paramref name="sorted"/> (nearest rank).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
