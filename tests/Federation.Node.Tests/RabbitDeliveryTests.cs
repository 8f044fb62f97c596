using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Node.Delivery;

namespace Federation.Node.Tests;

/// <summary>Exactly-once application and dead letters, with each node's bus on the test RabbitMQ.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitDeliveryTests
{
    private static async Task<TestNode> StartOnRabbitAsync(string name, Action<Federation.Core.NodeOptions>? configure = null)
    {
        var vhost = await Broker.NewVirtualHostAsync(name);
        return await TestNode.StartAsync(name, o =>
        {
            Broker.Use(o, vhost);
            configure?.Invoke(o);
        });
    }

    private static void AssertClean(Ledger.Audit audit, int expected)
    {
        Assert.Equal(expected, audit.Expected);
        Assert.Equal(0, audit.Lost);
        Assert.Equal(0, audit.AppliedTwice);
        Assert.Equal(0, audit.Unexpected);
    }

    [Fact]
    public async Task TheSameEnvelopeBatchDeliveredTwiceIsAppliedOnce()
    {
        await using var a = await StartOnRabbitAsync("alpha");
        await using var b = await StartOnRabbitAsync("beta");
        await TestNode.PeerAsync(a, b);
        await a.CutAsync(b); // alpha's own pushes wait; this test delivers by hand first
        // Nor may beta pull them: its catch-up on start is asked once its bus is ready,
        // which on RabbitMQ may be after the peering above.
        await b.CutAsync(a);
        for (var i = 0; i < 3; i++)
        {
            await a.CloseAsync((await a.PublishAsync(b)).Id);
        }
        var batch = new DeliverRequest();
        foreach (var id in a.Store.ListObjects(ObjectKind.CallOut).Select(o => o.ObjectId))
        {
            batch.Envelopes.AddRange(a.Store.LoadEvents(id, 0, 10).Select(e => Envelopes.Build(e, a.Get<Federation.Core.Identity.NodeIdentity>().Algorithm)));
        }
        Assert.Equal(6, batch.Envelopes.Count);

        var first = await b.Peer.DeliverAsync(batch, a.AsPeerOf(b, Methods.Deliver, batch));
        var second = await b.Peer.DeliverAsync(batch, a.AsPeerOf(b, Methods.Deliver, batch));
        var together = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => b.Peer.DeliverAsync(batch, a.AsPeerOf(b, Methods.Deliver, batch)).ResponseAsync));
        var reversed = new DeliverRequest { Envelopes = { batch.Envelopes.Reverse() } };
        var backwards = await b.Peer.DeliverAsync(reversed, a.AsPeerOf(b, Methods.Deliver, reversed));

        Assert.Equal((6u, 0u), (first.Applied, first.Duplicates));
        Assert.Equal((0u, 6u), (second.Applied, second.Duplicates));
        Assert.All(together, r => Assert.Equal((0u, 6u), (r.Applied, r.Duplicates)));
        Assert.Equal((0u, 6u), (backwards.Applied, backwards.Duplicates));
        AssertClean(Ledger.Compare(a, b), 6);

        // And alpha's own delivery, once it can reach beta, brings the same events a third time.
        await a.CutAsync(b, cut: false);
        await Eventually.TrueAsync(() => a.Store.Count("outbox") == 0, "alpha's outbox to drain into beta");
        AssertClean(Ledger.Compare(a, b), 6);
        Assert.Equal(6, b.Store.Count("events"));
    }

    [Fact]
    public async Task APermanentRefusalIsParkedAndReplayedOnceTheCauseIsFixed()
    {
        await using var a = await StartOnRabbitAsync("alpha");
        // No periodic catch-up at beta: only the replay can bring the parked events over.
        await using var b = await StartOnRabbitAsync("beta", o => o.CatchUpInterval = TimeSpan.Zero);
        await a.AddPeerAsync(b); // beta's operator has not added alpha yet
        var first = await a.PublishAsync(b);
        await a.CloseAsync(first.Id);
        await a.PublishAsync(b);

        await Eventually.TrueAsync(() => a.Store.ListDeadLetters().Count == 3, "beta's refusals to be parked at alpha");
        var listed = await Solnet.RunAsync(a.DataDir, "deadletters");
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("refused (Unauthenticated)", listed.Out);
        Assert.Contains("could not authenticate the call", listed.Out);
        Assert.Equal(3ul, a.PeerInfo(b.NodeId).DeadLetters);
        Assert.Equal(0, a.Store.Count("outbox")); // parked, not retried
        Assert.Equal(0, b.Store.Count("events"));

        await b.AddPeerAsync(a); // the cause, fixed
        var one = a.Store.ListDeadLetters()[0].Id;
        var byId = await Solnet.RunAsync(a.DataDir, "deadletter", "replay", one.ToString());
        var byPeer = await Solnet.RunAsync(a.DataDir, "deadletter", "replay", "--peer", b.Identity.Fingerprint);

        Assert.Equal((0, "Replayed 1: back in the peer's queue."), (byId.ExitCode, byId.Out.Trim()));
        Assert.Equal((0, "Replayed 2: back in the peer's queue."), (byPeer.ExitCode, byPeer.Out.Trim()));
        await Eventually.TrueAsync(() => Ledger.Compare(a, b).Clean && b.Store.Count("events") == 3, "the replayed events to reach beta");
        AssertClean(Ledger.Compare(a, b), 3);
        Assert.Empty(a.Store.ListDeadLetters());
        Assert.Equal(0ul, a.PeerInfo(b.NodeId).DeadLetters);
        var again = await Solnet.RunAsync(a.DataDir, "deadletter", "replay", one.ToString());
        Assert.Equal(3, again.ExitCode);
        Assert.Contains($"There is no dead letter {one}", again.Error);
    }
}
