using ScottPlot;
using static Federation.Load.Measurements;

namespace Federation.Load;

/// <summary>The run's figures drawn (issue 20): PNGs written beside the Markdown table.</summary>
public static class Plots
{
    /// <summary>
    /// Fan-out time (p50, until every peer acknowledged) and CPU per delivered event against
    /// the number of peers, all on log scales (Fedify's figures are ten times the node's);
    /// Fedify's point beside ours where it ran.
    /// </summary>
    public static void FanOut(string path, IReadOnlyList<FanOutPoint> ours, FanOutPoint? fedify)
    {
        var plot = new Plot();
        // ScottPlot draws linear axes: plot log10 of every value and label the ticks with the values.
        var xs = ours.Select(x => Math.Log10(x.Peers)).ToArray();
        var time = plot.Add.Scatter(xs, ours.Select(x => Math.Log10(x.P50Ms)).ToArray());
        time.LegendText = "time until all acknowledged, p50 (ms, left)";
        time.MarkerSize = 8;
        var cpu = plot.Add.Scatter(xs, ours.Select(x => Math.Log10(x.CpuPerEventUs)).ToArray());
        cpu.LegendText = "CPU per delivered event (µs, right)";
        cpu.Axes.YAxis = plot.Axes.Right;
        cpu.LinePattern = LinePattern.Dashed;
        cpu.MarkerSize = 8;
        if (fedify is not null)
        {
            var x = Math.Log10(fedify.Peers);
            var fTime = plot.Add.Marker(x, Math.Log10(fedify.P50Ms), MarkerShape.OpenSquare, 12, time.Color);
            fTime.LegendText = $"Fedify {FedifyFanOut.Version}: time, p50 (ms, left)";
            var fCpu = plot.Add.Marker(x, Math.Log10(fedify.CpuPerEventUs), MarkerShape.OpenTriangleUp, 12, cpu.Color);
            fCpu.LegendText = $"Fedify {FedifyFanOut.Version}: CPU per event (µs, right)";
            fCpu.Axes.YAxis = plot.Axes.Right;
        }
        plot.Axes.Bottom.SetTicks(xs, ours.Select(x => x.Peers.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.Left.TickGenerator = LogTicks();
        plot.Axes.Right.TickGenerator = LogTicks();
        plot.Axes.Bottom.Label.Text = "peers (log scale)";
        plot.Axes.Left.Label.Text = "ms until every peer acknowledged, p50 (log scale)";
        plot.Axes.Right.Label.Text = "µs CPU per delivered event (log scale)";
        plot.Title("Fan-out of one call-out, on loopback");
        plot.Axes.Margins(0.1, 0.1);
        var times = ours.Select(x => x.P50Ms).Append(fedify?.P50Ms ?? ours[0].P50Ms).ToArray();
        var cpus = ours.Select(x => x.CpuPerEventUs).Append(fedify?.CpuPerEventUs ?? ours[0].CpuPerEventUs).ToArray();
        plot.Axes.SetLimitsY(Math.Floor(Math.Log10(times.Min())), Math.Ceiling(Math.Log10(times.Max())) + 0.3, plot.Axes.Left);
        plot.Axes.SetLimitsY(Math.Floor(Math.Log10(cpus.Min())), Math.Ceiling(Math.Log10(cpus.Max())) + 0.3, plot.Axes.Right);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 900, 540);
    }

    /// <summary>Ticks at powers of ten, labelled with the values, and minor ticks between them (ScottPlot's log-scale recipe).</summary>
    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = y => Math.Pow(10, y).ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Catch-up: the events the replica holds against seconds since its start.</summary>
    public static void CatchUp(string path, IReadOnlyList<(double Seconds, long Held)> progress, long total)
    {
        var plot = new Plot();
        var line = plot.Add.Scatter(progress.Select(x => x.Seconds).ToArray(), progress.Select(x => (double)x.Held).ToArray());
        line.MarkerSize = 0;
        line.LegendText = "events the replica holds";
        plot.Axes.Bottom.Label.Text = "seconds since the replica started";
        plot.Axes.Left.Label.Text = "events held";
        plot.Title($"Catch-up of a replica that missed {total:N0} events");
        plot.Axes.SetLimitsY(0, total * 1.05);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 900, 540);
    }
}
