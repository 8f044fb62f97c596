using Federation.Contracts;
using System.Globalization;
using System.Text;
using Federation.Contracts.V1;
using Google.Protobuf;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Delivery;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// Peer calls are signed over their body and a unique call id (issue 15 #4), and the old
/// signature of release 0.1.0 is taken only from a peer still known to be that release.
/// </summary>
public sealed class PeerCallSignatureTests : IAsyncLifetime
{
    private TestNode _a = null!;
    private TestNode _b = null!;

    public async Task InitializeAsync()
    {
        // ECDSA P-256 networks, as release 0.1.0's are and as a network that peers with one must be (docs/adr/0029).
        _a = await TestNode.StartAsync("alpha", "--network-key-algorithm", "ecdsa-p256");
        _b = await TestNode.StartAsync("beta", "--network-key-algorithm", "ecdsa-p256");
        await TestNode.PeerAsync(_a, _b);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task CapturedHeadersReplayedWithAnotherFetchEventsBodyAreRefused()
    {
        var signedFor = new FetchEventsRequest { ObjectId = Identifiers.NewObjectId(_a.NodeId) };
        var captured = _b.AsPeerOf(_a, Methods.FetchEvents, signedFor);
        var other = new FetchEventsRequest { ObjectId = Identifiers.NewObjectId(_a.NodeId), Limit = 7 };

        var ex = await Assert.ThrowsAsync<RpcException>(() => _a.Peer.FetchEventsAsync(other, captured).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("could not authenticate the call", ex.Status.Detail);
    }

    [Fact]
    public async Task TheSameCallIdIsTakenOnce()
    {
        var request = new ListSharedRequest();
        var captured = _b.AsPeerOf(_a, Methods.ListShared, request);
        await _a.Peer.ListSharedAsync(request, captured);

        var ex = await Assert.ThrowsAsync<RpcException>(() => _a.Peer.ListSharedAsync(request, captured).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("already taken a call with id", ex.Status.Detail);
        // A fresh call from the same peer still works.
        await _a.Peer.ListSharedAsync(request, _b.AsPeerOf(_a, Methods.ListShared, request));
    }

    [Fact]
    public async Task AnOldFormatCallInTheNameOfAPeerKnownToSpeak11IsRefused()
    {
        Assert.Equal("1.1", _a.Store.PeerProtocols().Single(p => p.NodeId == _b.NodeId).Protocol);

        var ex = await Assert.ThrowsAsync<RpcException>(() => _a.Peer.ListSharedAsync(new ListSharedRequest(), OldFormat(_b, _a, Methods.ListShared)).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task AnOldFormatCallFromAPeerKnownAsARelease010IsTakenAndItIsCalledTheOldWay()
    {
        // What alpha records of a 0.1.0 peer: protocol 1.0, no capabilities.
        await _a.Store.WriteAsync(tx =>
        {
            tx.SetPeerProtocol(new PeerProtocolRecord(_b.NodeId, "1.0", "0.1.0", "", DateTimeOffset.UtcNow, null));
            return true;
        });

        var answer = await _a.Peer.ListSharedAsync(new ListSharedRequest(), OldFormat(_b, _a, Methods.ListShared));
        Assert.NotNull(answer);

        // And alpha signs its own calls to such a peer the way 0.1.0 checks them.
        var headers = _a.AsPeerOf(_b, Methods.ListShared, new ListSharedRequest()).Headers!;
        Assert.Null(headers.GetValue(PeerClients.CallIdHeader));
        Assert.Null(headers.GetValue(PeerClients.BodyHashHeader));
    }

    [Fact]
    public async Task PeersOfThisBuildLearnOverTheWireThatEachSignsOverTheBodyAndCallEachOtherSo()
    {
        // What beta said in the Hello exchange when they peered, as alpha stored it.
        var known = _a.Store.PeerProtocol(_b.NodeId);
        Assert.NotNull(known);
        Assert.Contains(Protocol.Capabilities.BodyBoundCalls, known.CapabilitySet);
        Assert.False(known.IsBeforeExchange);

        var request = new ListSharedRequest();
        var headers = _a.AsPeerOf(_b, Methods.ListShared, request).Headers!;
        Assert.NotNull(headers.GetValue(PeerClients.CallIdHeader));
        Assert.Equal(PeerClients.BodyHash(request.ToByteArray()), headers.GetValue(PeerClients.BodyHashHeader));
        Assert.Equal(((int)SignatureAlgorithm.EcdsaP256Sha256).ToString(CultureInfo.InvariantCulture), headers.GetValue(PeerClients.AlgorithmHeader));
    }

    [Fact]
    public async Task ACallNamingAnAlgorithmThisNodeCannotVerifyIsRefusedSayingSo()
    {
        var request = new ListSharedRequest();
        var signed = _b.AsPeerOf(_a, Methods.ListShared, request);
        var other = new Metadata();
        foreach (var entry in signed.Headers!.Where(e => e.Key != PeerClients.AlgorithmHeader))
        {
            other.Add(entry);
        }
        other.Add(PeerClients.AlgorithmHeader, "7");

        var ex = await Assert.ThrowsAsync<RpcException>(() => _a.Peer.ListSharedAsync(request, new CallOptions(other)).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("signed with algorithm 7", ex.Status.Detail);
        Assert.Contains("cannot verify", ex.Status.Detail);
    }

    /// <summary>Headers as release 0.1.0 sends them: no protocol, call id or body hash.</summary>
    private static CallOptions OldFormat(TestNode from, TestNode to, string method)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var signature = from.Identity.Sign(SignedKind.Call, Encoding.UTF8.GetBytes(PeerClients.LegacySigningString(method, ts, from.NodeId, to.NodeId)));
        return new CallOptions(new Metadata
        {
            { PeerClients.NodeHeader, from.NodeId },
            { PeerClients.TimeHeader, ts },
            { PeerClients.SignatureHeader, Convert.ToBase64String(signature) },
        });
    }
}
