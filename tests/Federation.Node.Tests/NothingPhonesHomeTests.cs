using Federation.Core;
using Federation.Node.Hosting;
using Federation.Testing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Federation.Node.Tests;

/// <summary>A node dials only what its operator configured: no library reports usage to its vendor.</summary>
public sealed class NothingPhonesHomeTests
{
    [Fact]
    public async Task MassTransitsUsageReportIsOffInANode()
    {
        await using var node = await TestNode.StartAsync("alpha");

        // What MassTransit's usage tracker reads when the bus starts.
        Assert.False(node.Get<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("True")]
    [InlineData("1")]
    public void AnEnvironmentVariableThatWouldTurnTheReportBackOnIsRefused(string value)
    {
        var ex = Assert.Throws<NodeStartRefusedException>(() => BusExtensions.RefuseUsageTelemetry(value));
        Assert.Contains("unset MASSTRANSIT_USAGE_TELEMETRY", ex.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("false")]
    [InlineData("0")]
    public void AnEnvironmentVariableThatLeavesTheReportOffIsAccepted(string? value)
    {
        Assert.Null(Record.Exception(() => BusExtensions.RefuseUsageTelemetry(value)));
    }

    [Fact]
    public async Task ANodeStartedWithTheReportTurnedOnRefusesToStartAndSaysWhy()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string> { ["MASSTRANSIT_USAGE_TELEMETRY"] = "true" });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(node.StartAgainAsync);

        Assert.Contains("exited with", ex.Message);
        Assert.Contains("unset MASSTRANSIT_USAGE_TELEMETRY", ex.Message);
    }
}
