using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Federation.Contracts.V1;
using Federation.Core.Telemetry;
using Federation.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>
/// One release number, set once in Directory.Build.props, is what solnet, the node's
/// start-up line and its node info all say: an operator who says "we run 0.1" means the
/// same build everywhere.
/// </summary>
public sealed partial class ReleaseVersionTests
{
    private static string ReleaseInBuildProps()
    {
        var props = File.ReadAllText(Path.Combine(Built.Root, "Directory.Build.props"));
        return VersionElement().Match(props) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException("Directory.Build.props names no <Version>.");
    }

    [Fact]
    public void TheReleaseIsASemanticVersion() =>
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", ReleaseInBuildProps());

    [Fact]
    public async Task SolnetTheNodesStartUpLineAndItsNodeInfoNameTheRelease()
    {
        var release = ReleaseInBuildProps();

        var cli = await Solnet.RunWithoutDataAsync(["--version"]);
        Assert.Equal(0, cli.ExitCode);
        Assert.Equal(release, cli.Out.Trim().Split('+')[0]);

        await using var node = new NodeProcess("alpha", []);
        await node.StartAgainAsync();
        Assert.True(node.LogContains($"is running (release {release}"), node.LogTail());

        var info = await node.Delegate.GetNodeInfoAsync(new GetNodeInfoRequest(), node.Auth);
        Assert.Equal(release, info.SoftwareVersion);
        var status = await Solnet.RunAsync(node.DataDir, "info");
        Assert.Contains($"version:     {release}", status.Out);
    }

    [Fact]
    public async Task TheNodesMetricsNameTheRelease()
    {
        await using var node = await TestNode.StartAsync("alpha");
        var scope = node.Services.GetRequiredService<IMeterFactory>();
        var versions = new List<string?>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "federation.build.info" && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == "version" && value == 1)
                {
                    versions.Add(t.Value as string);
                }
            }
        });
        listener.Start();
        _ = node.Services.GetRequiredService<NodeTelemetry>();

        listener.RecordObservableInstruments();

        Assert.Equal([ReleaseInBuildProps()], versions);
    }

    [GeneratedRegex("<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();
}
