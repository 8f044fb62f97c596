using Federation.Contracts.V1;
using Federation.Node.Delivery;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>Explicit, mutual peering: pending until both operators have added each other; suspension and revocation take effect at once.</summary>
public sealed class PeeringTests
{
    private static string StateOf(TestNode at, TestNode peer) =>
        at.Delegate.ListPeers(new ListPeersRequest(), at.Auth).Peers.Single(p => p.NodeId == peer.NodeId).State;

    [Fact]
    public async Task APeerIsPendingUntilTheOtherOperatorAddsThisNode()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");

        await a.AddPeerAsync(b);
        Assert.Equal("pending", StateOf(a, b));

        await b.AddPeerAsync(a);
        Assert.Equal("active", StateOf(b, a));
        Assert.Equal("active", StateOf(a, b));
    }

    [Fact]
    public async Task ARevokedPeerIsRefusedAtOnceAndNothingMoreIsSentToIt()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        await b.StopAsync(); // so alpha has something queued for beta
        await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut() }, a.Auth);
        await a.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = b.NodeId, State = "revoked" }, a.Auth);
        await b.StartAgainAsync();

        // beta's next envelope is refused…
        var envelope = Forge.Sign(b.Identity, Federation.Domain.Identifiers.NewObjectId(b.NodeId), ObjectKind.CallOut, 1,
            new EventBody { CallOutPublished = new CallOutPublished { Content = Samples.CallOut(), Recipients = { a.NodeId } } });
        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Peer.DeliverAsync(new DeliverRequest { Envelopes = { envelope } }, b.AsPeerOf(a, Methods.Deliver, new DeliverRequest { Envelopes = { envelope } })).ResponseAsync);
        Status.Is(StatusCode.PermissionDenied, ex);
        Assert.Contains("revoked", ex.Status.Detail);

        // …what was queued for it is dropped, and nothing new can be addressed to it.
        Assert.Equal(0, a.Store.Count("outbox"));
        var refused = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.PublishCallOutAsync(
            new PublishCallOutRequest { Content = Samples.CallOut(), Recipients = { b.NodeId } }, a.Auth).ResponseAsync);
        Status.Is(StatusCode.FailedPrecondition, refused);
        Assert.Contains("revoked", refused.Status.Detail);
        // beta's own catch-up from alpha on start is refused too, so it never gets the call-out.
        await Eventually.TrueAsync(() => b.Delegate.ListPeers(new ListPeersRequest(), b.Auth).Peers.Single().LastError.Contains("revoked"),
            "beta's catch-up from alpha to be refused");
        Assert.Empty(b.Store.ListObjects(ObjectKind.CallOut));
    }

    [Fact]
    public async Task ASuspendedPeerGetsNothingUntilItIsReactivated()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var callOut = await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut(), Recipients = { b.NodeId, c.NodeId } }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id) is not null && c.Store.GetObject(callOut.Id) is not null, "the call-out to reach both");

        await a.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = b.NodeId, State = "suspended" }, a.Auth);
        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = callOut.Id, Reason = "done" }, a.Auth);
        await Eventually.TrueAsync(() => c.Store.GetObject(callOut.Id)!.LastSequence == 2, "the close to reach gamma");
        Assert.Equal(1ul, b.Store.GetObject(callOut.Id)!.LastSequence);
        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Peer.HelloAsync(new HelloRequest(), b.AsPeerOf(a, Methods.Hello, new HelloRequest())).ResponseAsync);
        Status.Is(StatusCode.PermissionDenied, ex);

        await a.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = b.NodeId, State = "active" }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id)!.LastSequence == 2, "the held-back close to reach beta after reactivation");
    }
}
