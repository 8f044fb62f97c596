using ScottPlot;
using static Federation.Load.Measurements;

namespace Federation.Load;

/// <summary>The run's figures drawn (issue 20): PNGs written beside the Markdown table.</summary>
public static class Plots
{
    /// <summary>
    /// Fan-out time (p50, until every peer acknowledged) and CPU per delivered event against
    /// the number of peers, on a log scale of peers; Fedify's point beside ours where it ran.
    /// </summary>
    public static void FanOut(string path, IReadOnlyList<FanOutPoint> ours, FanOutPoint? fedify)
    {
        var plot = new Plot();
        // ScottPlot draws linear axes: plot log10(peers) and label the ticks with the counts.
        var xs = ours.Select(x => Math.Log10(x.Peers)).ToArray();
        var time = plot.Add.Scatter(xs, ours.Select(x => x.P50Ms).ToArray());
        time.LegendText = "time until all acknowledged, p50 (ms, left)";
        time.MarkerSize = 8;
        var cpu = plot.Add.Scatter(xs, ours.Select(x => x.CpuPerEventUs).ToArray());
        cpu.LegendText = "CPU per delivered event (µs, right)";
        cpu.Axes.YAxis = plot.Axes.Right;
        cpu.LinePattern = LinePattern.Dashed;
        cpu.MarkerSize = 8;
        if (fedify is not null)
        {
            var x = Math.Log10(fedify.Peers);
            var fTime = plot.Add.Marker(x, fedify.P50Ms, MarkerShape.OpenSquare, 12, time.Color);
            fTime.LegendText = $"Fedify {FedifyFanOut.Version}: time, p50 (ms, left)";
            var fCpu = plot.Add.Marker(x, fedify.CpuPerEventUs, MarkerShape.OpenTriangleUp, 12, cpu.Color);
            fCpu.LegendText = $"Fedify {FedifyFanOut.Version}: CPU per event (µs, right)";
            fCpu.Axes.YAxis = plot.Axes.Right;
        }
        plot.Axes.Bottom.SetTicks(xs, ours.Select(x => x.Peers.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.Bottom.Label.Text = "peers (log scale)";
        plot.Axes.Left.Label.Text = "ms until every peer acknowledged (p50)";
        plot.Axes.Right.Label.Text = "µs CPU per delivered event";
        plot.Title("Fan-out of one call-out, on loopback");
        plot.Axes.Margins(0.1, 0.1);
        plot.Axes.SetLimitsY(0, Math.Max(ours.Max(x => x.P50Ms), fedify?.P50Ms ?? 0) * 1.1, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, Math.Max(ours.Max(x => x.CpuPerEventUs), fedify?.CpuPerEventUs ?? 0) * 1.1, plot.Axes.Right);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 900, 540);
    }

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
