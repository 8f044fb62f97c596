using Federation.Testing;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Federation.Node.Tests;

/// <summary>
/// A broker outage is visible where an operator looks (`solnet status`, gRPC health's
/// readiness, the log) and said once in the log, not once per attempt
/// (docs/operators.md, "What to watch").
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class OutageVisibilityTests
{
    [Fact]
    public async Task SolnetStatusAndReadinessShowABrokerOutageAndTheLogSaysItOnce()
    {
        await using var node = await BrokerNode.StartAsync("alpha", s => s["Node__DependencyCheckInterval"] = "00:00:00.500");
        using var channel = GrpcChannel.ForAddress(node.Address);
        var health = new Health.HealthClient(channel);
        async Task<HealthCheckResponse.Types.ServingStatus> StatusOf(string service) =>
            (await health.CheckAsync(new HealthCheckRequest { Service = service })).Status;

        await Eventually.UntilAsync(async () => (await Solnet.RunAsync(node.DataDir, "status")).Out.Contains("broker:      up"),
            TimeSpan.FromSeconds(30), "status to show the broker up");
        Assert.Contains("database:    up", (await Solnet.RunAsync(node.DataDir, "status")).Out);

        await Broker.StopAsync();
        try
        {
            await Eventually.UntilAsync(async () => (await Solnet.RunAsync(node.DataDir, "status")).Out.Contains("broker:      DOWN since"),
                TimeSpan.FromSeconds(60), "status to show the broker down", node.LogTail);
            var status = await Solnet.RunAsync(node.DataDir, "status");
            Assert.Equal(0, status.ExitCode);
            Assert.Contains("database:    up", status.Out);
            // Out of rotation, but not to be restarted: its database is fine and it still serves.
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, await StatusOf("readiness"));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, await StatusOf(""));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await StatusOf("liveness"));
            // And which dependency it is.
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, await StatusOf("broker"));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await StatusOf("database"));
            // Checked every half second for a few seconds more: still said once.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.True(node.LogCount("The broker is down:") == 1, node.LogTail(60));
        }
        finally
        {
            await Broker.StartAsync();
        }

        await Eventually.UntilAsync(async () => (await Solnet.RunAsync(node.DataDir, "status")).Out.Contains("broker:      up"),
            TimeSpan.FromSeconds(90), "status to show the broker back", node.LogTail);
        Assert.Equal(1, node.LogCount("The broker is back after"));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await StatusOf("readiness"));
    }
}
