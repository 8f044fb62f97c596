using Federation.Contracts.V1;
using Federation.Core.Storage;
using Grpc.Core;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>
/// Webhooks do not reach loopback, link-local or private addresses unless the operator
/// allows them (Node:Notifications:AllowedWebhookTargets), neither when added nor when sent.
/// </summary>
public sealed class WebhookTargetTests
{
    private const string Secret = "correct-horse-battery-staple-42";

    // Clears the loopback allowance TestNode gives the other tests.
    private static readonly string[] NothingAllowed = ["--Node:Notifications:AllowedWebhookTargets:0", ""];

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://192.168.1.20/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    [InlineData("https://localhost/hook")]
    public async Task AWebhookToAnInternalAddressIsRefusedAndNothingIsAdded(string url)
    {
        await using var a = await TestNode.StartAsync("alpha", NothingAllowed);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            a.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = url, Secret = Secret }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains("loopback, link-local or private address", ex.Status.Detail);
        Assert.Contains("Node:Notifications:AllowedWebhookTargets", ex.Status.Detail);
        Assert.Empty(a.Delegate.ListNotificationChannels(new ListNotificationChannelsRequest(), a.Auth).Channels);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "http://10.0.0.1/hook")]
    [InlineData("169.254.10.1", "http://169.254.10.1/hook")]
    [InlineData("localhost", "http://localhost:9/hook")]
    public async Task AnInternalTargetTheOperatorAllowsIsAccepted(string allowed, string url)
    {
        await using var a = await TestNode.StartAsync("alpha", "--Node:Notifications:AllowedWebhookTargets:0", allowed);

        var channel = await a.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = url, Secret = Secret }, a.Auth);

        Assert.True(channel.Active);
    }

    [Fact]
    public async Task ANameThatResolvesToLoopbackWhenSentGetsNothing()
    {
        // A name that passed when it was added and resolves to loopback now (DNS rebinding),
        // stood in for by "localhost" written straight into the store.
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", NothingAllowed);
        await TestNode.PeerAsync(a, b);
        var url = new UriBuilder(receiver.Url) { Host = "localhost" }.Uri.ToString();
        await b.Store.WriteAsync(tx =>
        {
            tx.AddChannel(new ChannelRecord("wh-rebound", "webhook", url, Secret, true, DateTimeOffset.UtcNow));
            return true;
        }, CancellationToken.None);

        await PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => Deliveries(b).SingleOrDefault() is { Attempts: >= 1, LastError.Length: > 0 }, "a failed attempt");
        Assert.Contains("a loopback, link-local or private address", Deliveries(b).Single().LastError);
        Assert.Empty(receiver.Requests);
    }

    private static IReadOnlyList<NotificationDelivery> Deliveries(TestNode node) =>
        node.Delegate.ListNotificationDeliveries(new ListNotificationDeliveriesRequest(), node.Auth).Deliveries;
}
