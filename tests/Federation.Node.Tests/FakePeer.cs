using System.Net;
using System.Security.Cryptography;
using Federation.Contracts.V1;
using Federation.Domain;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>
/// A stand-in peer on a real loopback port that identifies itself with a real key (so a
/// node can add it) and answers every delivery with <see cref="Answer"/>: an overloaded
/// or broken peer, on demand.
/// </summary>
public sealed class FakePeer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private int _deliveries;

    private FakePeer(RpcException answer)
    {
        Answer = answer;
        PublicKey = _key.ExportSubjectPublicKeyInfo();
        NodeId = Identifiers.NodeIdFromPublicKey(PublicKey);
        Port = Ports.Free();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(this);
        _app = builder.Build();
        _app.MapGrpcService<Service>();
    }

    public RpcException Answer { get; }
    public byte[] PublicKey { get; }
    public string NodeId { get; }
    public string Fingerprint => Identifiers.Fingerprint(NodeId);
    public int Port { get; }
    public string Address => $"http://127.0.0.1:{Port}";

    /// <summary>Deliver calls that reached this peer (each gRPC attempt counts).</summary>
    public int Deliveries => Volatile.Read(ref _deliveries);

    public static async Task<FakePeer> StartAsync(RpcException answer)
    {
        var peer = new FakePeer(answer);
        await peer._app.StartAsync();
        return peer;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _key.Dispose();
    }

    private sealed class Service(FakePeer peer) : PeerService.PeerServiceBase
    {
        public override Task<IdentifyResponse> Identify(IdentifyRequest request, ServerCallContext context) =>
            Task.FromResult(new IdentifyResponse
            {
                NodeId = peer.NodeId,
                Name = "fake",
                PublicKey = ByteString.CopyFrom(peer.PublicKey),
                Fingerprint = peer.Fingerprint,
                // A peer of this build, overloaded or broken: said so, or a node would take it
                // for release 0.1.0 and hold back what its Ed25519 key signs.
                Speaks = Peering.LocalProtocol.ThisBuild.ToWire(),
            });

        public override Task<HelloResponse> Hello(HelloRequest request, ServerCallContext context) =>
            Task.FromResult(new HelloResponse { Speaks = Peering.LocalProtocol.ThisBuild.ToWire() });

        public override Task<DeliverResponse> Deliver(DeliverRequest request, ServerCallContext context)
        {
            Interlocked.Increment(ref peer._deliveries);
            throw peer.Answer;
        }
    }
}
