using Federation.Contracts;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Domain;
using Federation.Node.Delivery;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>Node-to-node mutual TLS bound to the pinned keys (Node:Tls), and solnet against a TLS node.</summary>
public sealed class TlsTests
{
    [Fact]
    public async Task TwoTlsNodesPeerAndExchangeACallOutWithAPledge()
    {
        await using var alpha = await TestNode.StartAsync("alpha", "--tls");
        await using var beta = await TestNode.StartAsync("beta", "--tls");
        Assert.StartsWith("https://127.0.0.1:", alpha.Address);
        await TestNode.PeerAsync(alpha, beta);
        Assert.Equal(("active", beta.Address), (alpha.PeerInfo(beta.NodeId).State, alpha.PeerInfo(beta.NodeId).Address));
        Assert.Equal("active", beta.PeerInfo(alpha.NodeId).State);

        var x = await PublishAsync(alpha, null, beta);
        await ReachedAsync(beta, x.Id, 1);
        await RespondAsync(beta, x.Id, Pledge("2026-12-05", "York, 3 Coney St"));
        var seen = await ReachedAsync(alpha, x.Id, 2);
        var row = Assert.Single(seen.Responses);
        Assert.Equal((beta.NodeId, ResponseKind.Pledge, "York, 3 Coney St"), (row.Network, row.Latest.Kind, row.Latest.Place));

        // The port speaks TLS only: a cleartext client gets nowhere.
        using var cleartext = GrpcChannel.ForAddress($"http://127.0.0.1:{alpha.Port}");
        var ex = await Assert.ThrowsAsync<RpcException>(() => new PeerService.PeerServiceClient(cleartext)
            .IdentifyAsync(new IdentifyRequest(), deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync);
        Assert.NotEqual(StatusCode.OK, ex.StatusCode);
    }

    [Fact]
    public async Task APeerCallWhoseClientCertificateIsNotTheNamedNodesKeyIsRefusedAndNothingIsStored()
    {
        await using var alpha = await TestNode.StartAsync("alpha", "--tls");
        await using var beta = await TestNode.StartAsync("beta", "--tls");
        await using var gamma = await TestNode.StartAsync("gamma", "--tls");
        await TestNode.PeerAsync(alpha, beta, gamma);
        // A call-out alpha really signed, for beta, with alpha's valid signed headers…
        var id = Identifiers.NewObjectId(alpha.NodeId);
        var envelope = Forge.Sign(alpha.Identity, id, ObjectKind.CallOut, 1,
            new EventBody { CallOutPublished = new CallOutPublished { Content = Samples.CallOut(), Recipients = { beta.NodeId } } });
        var deliver = new DeliverRequest { Envelopes = { envelope } };

        // …sent over a connection gamma (another of beta's peers) opened with its own certificate.
        using (var asGamma = TlsChannels.Pinned(beta.Address, beta.NodeId, gamma.Identity.Certificate))
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => new PeerService.PeerServiceClient(asGamma)
                .DeliverAsync(deliver, alpha.AsPeerOf(beta, Methods.Deliver, deliver)).ResponseAsync);
            Status.Is(StatusCode.Unauthenticated, ex);
            Assert.Contains($"client certificate is for {gamma.Identity.Fingerprint}, but the call names {alpha.Identity.Fingerprint}", ex.Status.Detail);
        }
        // …or with no certificate at all.
        using (var anonymous = TlsChannels.Pinned(beta.Address, beta.NodeId))
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => new PeerService.PeerServiceClient(anonymous)
                .DeliverAsync(deliver, alpha.AsPeerOf(beta, Methods.Deliver, deliver)).ResponseAsync);
            Status.Is(StatusCode.Unauthenticated, ex);
            Assert.Contains("presented none", ex.Status.Detail);
        }
        Assert.Null(beta.Store.GetObject(id));
        Assert.Empty(beta.Store.ListObjects(ObjectKind.CallOut));

        // The same call over alpha's own certificate is taken: the certificate was the only fault.
        using var asAlpha = TlsChannels.Pinned(beta.Address, beta.NodeId, alpha.Identity.Certificate);
        var taken = await new PeerService.PeerServiceClient(asAlpha).DeliverAsync(deliver, alpha.AsPeerOf(beta, Methods.Deliver, deliver));
        Assert.Equal(1u, taken.Applied);
        Assert.NotNull(beta.Store.GetObject(id));
    }

    [Fact]
    public async Task AddingAPeerWhoseServerCertificateIsNotThePinnedKeyFailsAndNothingIsStored()
    {
        await using var alpha = await TestNode.StartAsync("alpha", "--tls");
        await using var beta = await TestNode.StartAsync("beta", "--tls");
        // Answers Identify with beta's (public) identity, but cannot hold beta's private key,
        // so its TLS certificate carries a key of its own.
        await using var impostor = await Impostor.StartAsync(beta.Identity);

        var ex = await Assert.ThrowsAsync<RpcException>(() => alpha.Delegate.AddPeerAsync(
            new AddPeerRequest { Address = impostor.Address, Fingerprint = beta.Identity.Fingerprint }, alpha.Auth).ResponseAsync);
        Status.Is(StatusCode.FailedPrecondition, ex);
        Assert.Contains($"presented a TLS certificate for {impostor.Fingerprint}, not {beta.Identity.Fingerprint}. Nothing was added", ex.Status.Detail);
        Assert.Null(alpha.Store.GetPeer(beta.NodeId));
        Assert.Empty(alpha.Delegate.ListPeers(new ListPeersRequest(), alpha.Auth).Peers);
        Assert.Equal(0, impostor.Calls); // refused in the handshake, before any request
    }

    [Fact]
    public async Task APinnedPeerWhoseAddressNowServesAnotherKeyGetsNothing()
    {
        await using var alpha = await TestNode.StartAsync("alpha", "--tls");
        await using var beta = await TestNode.StartAsync("beta", "--tls");
        await using var gamma = await TestNode.StartAsync("gamma", "--tls");
        await TestNode.PeerAsync(alpha, beta);
        await TestNode.PeerAsync(alpha, gamma);
        // beta's address now leads to gamma (a hijacked name, a reused port).
        await alpha.Store.WriteAsync(tx =>
        {
            tx.UpsertPeer(alpha.Store.GetPeer(beta.NodeId)! with { Address = gamma.Address });
            return true;
        });

        var x = await PublishAsync(alpha, null, beta);
        await Eventually.TrueAsync(() => alpha.PeerInfo(beta.NodeId).LastError.Contains($"presented a TLS certificate for {gamma.Identity.Fingerprint}, not {beta.Identity.Fingerprint}"),
            "delivery to beta to fail on gamma's certificate");
        Assert.Null(gamma.Store.GetObject(x.Id));
        Assert.Null(beta.Store.GetObject(x.Id));
    }

    [Fact]
    public async Task ATlsNodeAddsNoCleartextPeer()
    {
        await using var alpha = await TestNode.StartAsync("alpha", "--tls");
        await using var beta = await TestNode.StartAsync("beta");
        Assert.StartsWith("http://", beta.Address);

        var ex = await Assert.ThrowsAsync<RpcException>(() => alpha.AddPeerAsync(beta));
        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains("expected an https:// address", ex.Status.Detail);
        Assert.Empty(alpha.Delegate.ListPeers(new ListPeersRequest(), alpha.Auth).Peers);
    }

    [Fact]
    public async Task NodesThatTurnTlsOnCallNoPeerOverCleartextUntilReAddedByHttpsAddress()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);
        foreach (var node in new[] { alpha, beta })
        {
            await node.StopAsync();
            node.Configure = o => o.Tls = true;
            await node.StartAgainAsync();
        }
        Assert.StartsWith("https://", beta.Address);

        // alpha still has beta's http:// address: it sends nothing over cleartext.
        var x = await PublishAsync(alpha, null, beta);
        await Eventually.TrueAsync(() => alpha.PeerInfo(beta.NodeId).LastError.Contains("is not an https:// address"),
            "delivery to beta's cleartext address to be refused");
        Assert.Null(beta.Store.GetObject(x.Id));

        // Added again by their https:// addresses, the same pinned keys; what was queued goes.
        await TestNode.PeerAsync(alpha, beta);
        await ReachedAsync(beta, x.Id, 1);
        Assert.Equal(("active", beta.Address), (alpha.PeerInfo(beta.NodeId).State, alpha.PeerInfo(beta.NodeId).Address));
    }

    [Fact]
    public async Task SolnetTalksToATlsNodeOnlyWhenItsCertificateIsTheFingerprintedKey()
    {
        await using var alpha = await TestNode.StartAsync("alpha", "--tls");
        await using var beta = await TestNode.StartAsync("beta", "--tls");
        Assert.Equal(alpha.Identity.Fingerprint, File.ReadAllText(Path.Combine(alpha.DataDir, "fingerprint")).Trim());

        // --data: address, fingerprint and token all from the node's folder.
        var info = await Solnet.RunAsync(alpha.DataDir, "info", "--field", "fingerprint");
        Assert.True(info.ExitCode == 0, info.Error);
        Assert.Equal(alpha.Identity.Fingerprint, info.Out.Trim());

        // A state-changing command works the same way.
        var added = await Solnet.RunAsync(alpha.DataDir, "peer", "add", beta.Address, beta.Identity.Fingerprint);
        Assert.True(added.ExitCode == 0, added.Error);
        Assert.NotNull(alpha.Store.GetPeer(beta.NodeId));

        // --node with the right fingerprint: fine.
        var named = await Solnet.RunAsync(alpha.DataDir, "--node", alpha.Address, "--fingerprint", alpha.Identity.Fingerprint, "info", "--field", "name");
        Assert.True(named.ExitCode == 0, named.Error);
        Assert.Equal("alpha", named.Out.Trim());

        // --node with another node's fingerprint: refused before anything (the token included) is sent.
        var wrong = await Solnet.RunAsync(alpha.DataDir, "--node", alpha.Address, "--fingerprint", beta.Identity.Fingerprint, "info");
        Assert.Equal(4, wrong.ExitCode);
        Assert.Contains($"The node at {alpha.Address} is not the one expected: its TLS certificate is for {alpha.Identity.Fingerprint}, not {beta.Identity.Fingerprint}", wrong.Error);
        Assert.Equal("", wrong.Out);

        // --node https://… without a fingerprint: a usage error naming the fix.
        var unpinned = await Solnet.RunAsync(alpha.DataDir, "--node", alpha.Address, "info");
        Assert.Equal(2, unpinned.ExitCode);
        Assert.Contains("--fingerprint", unpinned.Error);
    }

    /// <summary>A TLS server on loopback that claims another node's identity in Identify.</summary>
    private sealed class Impostor : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly SigningKey _key = SigningKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        private readonly X509Certificate2 _certificate;
        private int _calls;

        private Impostor(NodeIdentity claimed)
        {
            Claimed = claimed;
            Fingerprint = Identifiers.Fingerprint(Identifiers.NodeIdFromPublicKey(_key.PublicKey));
            _certificate = NodeCertificate.Create(_key, Identifiers.NodeIdFromPublicKey(_key.PublicKey), ["127.0.0.1"]);
            Port = Ports.Free();
            var builder = WebApplication.CreateBuilder();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                l.UseHttps(_certificate);
            }));
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(this);
            _app = builder.Build();
            _app.MapGrpcService<Service>();
        }

        public NodeIdentity Claimed { get; }
        public string Fingerprint { get; }
        public int Port { get; }
        public string Address => $"https://127.0.0.1:{Port}";
        public int Calls => Volatile.Read(ref _calls);

        public static async Task<Impostor> StartAsync(NodeIdentity claimed)
        {
            var impostor = new Impostor(claimed);
            await impostor._app.StartAsync();
            return impostor;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _certificate.Dispose();
            _key.Dispose();
        }

        private sealed class Service(Impostor impostor) : PeerService.PeerServiceBase
        {
            public override Task<IdentifyResponse> Identify(IdentifyRequest request, ServerCallContext context)
            {
                Interlocked.Increment(ref impostor._calls);
                return Task.FromResult(new IdentifyResponse
                {
                    NodeId = impostor.Claimed.NodeId,
                    Name = "beta",
                    PublicKey = ByteString.CopyFrom(impostor.Claimed.PublicKey),
                    Fingerprint = impostor.Claimed.Fingerprint,
                });
            }

            public override Task<HelloResponse> Hello(HelloRequest request, ServerCallContext context)
            {
                Interlocked.Increment(ref impostor._calls);
                return Task.FromResult(new HelloResponse());
            }
        }
    }
}
