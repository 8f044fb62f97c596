using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Peering;
using Federation.Testing;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>
/// Nodes say what they speak when they connect, and nodes of another major protocol version
/// are refused by name on both sides, with nothing given up as a dead letter
/// (docs/protocol.md "Compatibility").
/// </summary>
public sealed class ProtocolVersionTests
{
    private static readonly LocalProtocol MajorTwo = new(new SpokenProtocol(new ProtocolVersion(2, 0), "9.0.0", Protocol.ThisBuild));

    [Fact]
    public async Task PeersSayWhatTheySpeakAndSolnetPeersShowsIt()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);

        var seen = alpha.PeerInfo(beta.NodeId).Protocol;
        Assert.NotNull(seen);
        Assert.Equal(Protocol.Current.ToString(), seen.ProtocolVersion);
        Assert.Equal(SoftwareVersion.Number, seen.SoftwareVersion);
        Assert.Contains(Protocol.Capabilities.PeerVersions, seen.Capabilities);
        Assert.Empty(seen.Refusal);
        await Eventually.TrueAsync(() => beta.PeerInfo(alpha.NodeId).Protocol?.SoftwareVersion == SoftwareVersion.Number,
            "beta to have heard what alpha speaks");

        var peers = await Solnet.RunAsync(alpha.DataDir, "peers");
        Assert.Equal(0, peers.ExitCode);
        Assert.Contains($"{Protocol.Current} (release {SoftwareVersion.Number})", peers.Out);
        Assert.Contains(Protocol.Capabilities.SignaturesEcdsaP256, peers.Out);
    }

    [Fact]
    public async Task AddingANodeOfAnotherMajorVersionIsRefusedNamingBoth()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await beta.StopAsync();
        beta.Customize = b => b.Services.AddSingleton(MajorTwo);
        await beta.StartAgainAsync();

        var refused = await Assert.ThrowsAsync<RpcException>(() => alpha.AddPeerAsync(beta));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains($"This node speaks federation protocol {Protocol.Current}; the node at {beta.Address} speaks 2.0", refused.Status.Detail);
        Assert.Empty((await alpha.Delegate.ListPeersAsync(new ListPeersRequest(), alpha.Auth)).Peers);
    }

    [Fact]
    public async Task APeerThatMovesToAnotherMajorVersionIsRefusedOnBothSidesAndWhatWaitsIsDeliveredWhenItComesBack()
    {
        // A P-256 network, whose events need no capability, so alpha sends beta its call-out
        // and beta's own refusal is what keeps it waiting. An Ed25519 network's events wait at
        // alpha instead, since a peer it cannot talk to has said nothing it verifies
        // (CapabilityGate; AnEd25519NetworksEventsWaitForAPeerOfAnotherMajorVersionAndReachItWhenItComesBack).
        await using var alpha = await TestNode.StartAsync("alpha", o => o.NetworkKeyAlgorithm = "ecdsa-p256");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);

        // Beta comes back speaking protocol 2.0: its Hello at start is refused by alpha, and
        // each side records why, in words that name both versions.
        await MoveToMajorTwoAsync(alpha, beta);
        Assert.Contains($"This node speaks federation protocol {Protocol.Current}; peer beta speaks 2.0", alpha.PeerInfo(beta.NodeId).Protocol.Refusal);
        await Eventually.TrueAsync(() => beta.PeerInfo(alpha.NodeId).Protocol?.Refusal.Length > 0, "beta to record that alpha refused it");
        Assert.Contains("speaks 2.0", beta.PeerInfo(alpha.NodeId).Protocol.Refusal);
        var shown = await Solnet.RunAsync(alpha.DataDir, "peers");
        Assert.Contains("CANNOT TALK", shown.Out);

        // What alpha sends beta meanwhile is refused by beta, and waits: not a dead letter.
        var published = await alpha.PublishAsync(beta);
        // Beta's words: "This node speaks federation protocol 2.0; peer alpha speaks 1.1…".
        await Eventually.TrueAsync(() => alpha.PeerInfo(beta.NodeId).LastError.Contains("speaks federation protocol 2.0"),
            "alpha's delivery to show beta's refusal");
        Assert.Null(beta.Store.GetObject(published.Id));
        Assert.Equal(0ul, alpha.PeerInfo(beta.NodeId).DeadLetters);
        Assert.Equal(1ul, alpha.PeerInfo(beta.NodeId).Pending);

        // Beta speaks 1.x again: it says so at start, and the call-out arrives.
        await ComeBackAsync(beta, published.Id);
        await Eventually.TrueAsync(() => alpha.PeerInfo(beta.NodeId).Protocol?.Refusal.Length == 0, "alpha to talk to beta again");
        Assert.Equal(0ul, alpha.PeerInfo(beta.NodeId).DeadLetters);
    }

    [Fact]
    public async Task AnEd25519NetworksEventsWaitForAPeerOfAnotherMajorVersionAndReachItWhenItComesBack()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);
        await MoveToMajorTwoAsync(alpha, beta);

        // Alpha cannot know that a node it cannot talk to verifies Ed25519: its call-out is
        // set aside for beta, waiting, not sent to fail and not a dead letter.
        var published = await alpha.PublishAsync(beta);
        await Eventually.TrueAsync(() => alpha.PeerInfo(beta.NodeId).Waiting == 1, "alpha's call-out to wait for beta");
        Assert.Equal(0ul, alpha.PeerInfo(beta.NodeId).DeadLetters);
        Assert.Null(beta.Store.GetObject(published.Id));

        await ComeBackAsync(beta, published.Id);
        await Eventually.TrueAsync(() => alpha.PeerInfo(beta.NodeId).Waiting == 0, "nothing left waiting for beta");
        Assert.Equal(0ul, alpha.PeerInfo(beta.NodeId).DeadLetters);
    }

    /// <summary>Beta restarts speaking protocol 2.0; alpha refuses its Hello and records why.</summary>
    private static async Task MoveToMajorTwoAsync(TestNode alpha, TestNode beta)
    {
        await beta.StopAsync();
        beta.Customize = b => b.Services.AddSingleton(MajorTwo);
        await beta.StartAgainAsync();
        await Eventually.TrueAsync(() => alpha.PeerInfo(beta.NodeId).Protocol?.Refusal.Length > 0, "alpha to record that it cannot talk to beta");
    }

    /// <summary>Beta restarts speaking this build's protocol, and what waited for it arrives.</summary>
    private static async Task ComeBackAsync(TestNode beta, string waitingId)
    {
        await beta.StopAsync();
        beta.Customize = null;
        await beta.StartAgainAsync();
        await Eventually.TrueAsync(() => beta.Store.GetObject(waitingId) is not null, "the waiting call-out to reach beta");
    }
}
