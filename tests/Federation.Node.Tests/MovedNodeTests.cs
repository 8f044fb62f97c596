using Federation.Contracts.V1;
using Federation.Node.Peering;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 16 #4, the part that needs no network key: a network restored on a new server, at a
/// new address, is found there by its peers from its own signed Hello, with no peer
/// operator doing anything, and stays the authority of what it started.
/// </summary>
public sealed class MovedNodeTests
{
    [Fact]
    public async Task ANodeRestoredAtANewAddressIsFoundThereByItsPeersAndStaysTheAuthorityOfItsCallOut()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var callOut = await CallOutSteps.PublishAsync(a, null, b);
        await CallOutSteps.ReachedAsync(b, callOut.Id, 1);

        // alpha's server is gone; beta's pledge waits for it.
        await a.StopAsync();
        await CallOutSteps.RespondAsync(b, callOut.Id, CallOutSteps.Pledge());

        await using var moved = await TestNode.StartRestoredAsync(a);
        Assert.Equal(a.NodeId, moved.NodeId);
        Assert.NotEqual(a.Address, moved.Address);
        await Eventually.TrueAsync(() => b.PeerInfo(a.NodeId).Address == moved.Address, "beta to learn alpha's new address from its Hello");
        Assert.Contains(b.Logs.Lines, l => l.Contains("moved from " + a.Address + " to " + moved.Address, StringComparison.Ordinal));

        // What waited goes to the new address, and alpha still speaks for its call-out.
        await CallOutSteps.ReachedAsync(moved, callOut.Id, 2);
        await moved.CloseAsync(callOut.Id);
        Assert.True((await CallOutSteps.ReachedAsync(b, callOut.Id, 3)).Closed);
    }

    [Fact]
    public async Task AHelloWithAnAddressNoNodeCouldHaveIsRefusedAndChangesNothing()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        foreach (var bad in new[] { "ftp://127.0.0.1:21", "not an address", "http://" + new string('a', 300) + ".example" })
        {
            var hello = new HelloRequest { Speaks = a.Get<PeerProtocols>().Advertisement, Address = bad };
            var ex = await Assert.ThrowsAsync<RpcException>(() =>
                b.Peer.HelloAsync(hello, a.AsPeerOf(b, Federation.Node.Delivery.Methods.Hello, hello)).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Contains("is not a node address", ex.Status.Detail);
            Assert.Equal(a.Address, b.PeerInfo(a.NodeId).Address);
        }
    }

    [Fact]
    public async Task APeerReachedAtAnAddressOfItsOperatorsChoiceIsNotMovedByWhatItAnnounces()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        // beta's operator reaches alpha by another name than the one alpha announces (as through a proxy or a VPN).
        var chosen = $"http://localhost:{a.Port}";
        await b.Delegate.AddPeerAsync(new AddPeerRequest { Address = chosen, Fingerprint = a.Identity.Fingerprint }, b.Auth);
        await a.AddPeerAsync(b);
        Assert.Equal(chosen, b.PeerInfo(a.NodeId).Address);

        // alpha says it moved: beta, which never called it where it announced itself, keeps its operator's choice.
        var hello = new HelloRequest { Speaks = a.Get<PeerProtocols>().Advertisement, Address = "http://127.0.0.1:9" };
        await b.Peer.HelloAsync(hello, a.AsPeerOf(b, Federation.Node.Delivery.Methods.Hello, hello));
        Assert.Equal(chosen, b.PeerInfo(a.NodeId).Address);
    }
}
