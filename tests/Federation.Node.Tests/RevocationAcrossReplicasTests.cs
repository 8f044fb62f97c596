using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Domain;
using Federation.Node.Delivery;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 15 #13 on SQLite: a revocation written to the store by something other than this
/// process's <c>PeerDirectory</c> (as another replica sharing the database writes it) takes
/// effect here at once, although this process still has the peer's key cached.
/// <see cref="MultiReplicaTests"/> runs the same with two real replicas on PostgreSQL.
/// </summary>
public sealed class RevocationAcrossReplicasTests
{
    /// <summary>What another replica's revocation leaves behind: the row changed, this process's key cache untouched.</summary>
    private static Task RevokeBehindTheCacheAsync(TestNode at, TestNode peer) =>
        at.Store.WriteAsync(tx => tx.SetPeerState(peer.NodeId, PeerStates.Revoked, onlyFrom: null));

    [Fact]
    public async Task ARevocationInTheStoreRefusesTheRevokedOriginsEnvelopesAndEndsItsOpenSubmitStream()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);
        var published = await beta.PublishAsync(alpha);
        await Eventually.TrueAsync(() => alpha.Store.GetObject(published.Id) is not null, "beta's call-out to reach alpha");
        var envelopes = alpha.Store.LoadEvents(published.Id, 0, 100).Select(e => Envelopes.Build(e, alpha.Get<Federation.Core.Identity.NodeIdentity>().Algorithm)).ToList();
        var replicaLog = alpha.Services.GetRequiredService<ReplicaLog>();
        Assert.NotEmpty(replicaLog.Verify(envelopes)); // beta's events verify while beta is a peer

        // beta opens a SubmitStream to alpha; it is authenticated once, here.
        var clients = beta.Services.GetRequiredService<PeerClients>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var stream = clients.For(alpha.Address, alpha.NodeId).SubmitStream(clients.Options(alpha.NodeId, Methods.SubmitStream, cts.Token));
        await stream.RequestStream.WriteAsync(new SubmitRequest());
        Assert.True(await stream.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(SubmitStreamResponse.ResultOneofCase.Refused, stream.ResponseStream.Current.ResultCase); // an empty submission: refused, the call goes on

        await RevokeBehindTheCacheAsync(alpha, beta);

        // An envelope beta signed, whoever relays it, no longer verifies here.
        var refused = Assert.Throws<RuleViolation>(() => replicaLog.Verify(envelopes));
        Assert.Contains("is not a peer of this node", refused.Message, StringComparison.Ordinal);

        // The open stream ends at its next message, with the reason.
        await stream.RequestStream.WriteAsync(new SubmitRequest());
        var ended = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(StatusCode.PermissionDenied, ended.StatusCode);
        Assert.Contains("revoked", ended.Status.Detail, StringComparison.Ordinal);
    }
}
