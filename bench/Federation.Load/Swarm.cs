using Federation.Contracts;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Domain;
using Federation.Node.Delivery;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Federation.Load;

/// <summary>
/// Many peer nodes in one Kestrel server: each member has its own key and its own
/// loopback port (the port says which member is called). Members answer Identify and
/// Hello, so an origin adds them as it adds any peer, and on Deliver they check the
/// call's signed metadata and every envelope's signature, then acknowledge.
/// They can also act as submitters: sign calls and submissions with their keys.
/// </summary>
public sealed class Swarm : IAsyncDisposable
{
    public sealed class Member(int index, SigningKey key)
    {
        public int Index { get; } = index;
        public SigningKey Key { get; } = key;
        public byte[] PublicKey { get; } = key.PublicKey;
        public string NodeId => Identifiers.NodeIdFromPublicKey(PublicKey);
        public string Fingerprint => Identifiers.Fingerprint(NodeId);
        public int Port { get; set; }

        /// <summary>The loopback address the member is called at: its own, when the swarm shares one port.</summary>
        public string Host { get; set; } = "127.0.0.1";

        public string Address => $"http://{Host}:{Port}";
    }

    /// <summary>Distinct members that have acknowledged an object's first event.</summary>
    private sealed class Tally
    {
        private readonly HashSet<int> _members = [];
        private int _target = int.MaxValue;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Add(int member)
        {
            lock (_members)
            {
                if (_members.Add(member) && _members.Count >= _target)
                {
                    Done.TrySetResult();
                }
            }
        }

        public void Expect(int count)
        {
            lock (_members)
            {
                _target = count;
                if (_members.Count >= _target)
                {
                    Done.TrySetResult();
                }
            }
        }
    }

    private readonly ConcurrentDictionary<string, Tally> _tallies = new();
    private readonly Dictionary<int, Member> _byPort = [];
    private readonly Dictionary<string, Member> _byHost = [];
    private bool _onePort;
    private WebApplication _app = null!;
    private long _verified;

    public IReadOnlyList<Member> Members { get; private set; } = [];
    public PeerKeys Keys { get; } = new();
    public string OriginId { get; private set; } = "";
    public long EnvelopesVerified => Interlocked.Read(ref _verified);

    /// <param name="onePort">
    /// All members on one port, each called at its own loopback address (127.1.x.y: Linux
    /// routes all of 127.0.0.0/8 to the loopback interface) and told apart by the address a
    /// connection came in on. A port each costs a listening socket each, and 10,000 listeners
    /// beside 10,000 connections pass the 20,000 open files a process may have here. The one
    /// listener is bound to every IPv4 address (a socket bound to 127.0.0.1 hears only that
    /// address), and a call to any address but a member's is refused.
    /// </param>
    public static async Task<Swarm> StartAsync(int count, bool onePort = false)
    {
        var swarm = new Swarm { Members = Enumerable.Range(0, count).Select(i => new Member(i, SigningKey.Create(SignatureAlgorithm.Ed25519))).ToArray(), _onePort = onePort };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (onePort)
            {
                k.Listen(System.Net.IPAddress.Any, 0, l => l.Protocols = HttpProtocols.Http2);
                return;
            }
            for (var i = 0; i < count; i++)
            {
                k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
            }
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(swarm);
        swarm._app = builder.Build();
        swarm._app.MapGrpcService<SwarmPeerService>();
        await swarm._app.StartAsync();
        var ports = swarm._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.Select(a => new Uri(a).Port).ToArray();
        for (var i = 0; i < count; i++)
        {
            var m = swarm.Members[i];
            if (onePort)
            {
                m.Port = ports[0];
                m.Host = $"127.1.{i / 250}.{1 + (i % 250)}";
                swarm._byHost[m.Host] = m;
            }
            else
            {
                m.Port = ports[i];
                swarm._byPort[ports[i]] = m;
            }
        }
        return swarm;
    }

    /// <summary>The one node whose events the members accept (its key pinned, as a peer's would be).</summary>
    public void Trust(NodeIdentity origin) => Trust(origin.NodeId, origin.PublicKey);

    public void Trust(string nodeId, byte[] publicKey)
    {
        OriginId = nodeId;
        Keys.Pin(nodeId, publicKey);
    }

    /// <summary>The member a call came to: by the port it came in on, or with one port by the address.</summary>
    public Member Callee(ConnectionInfo connection) =>
        (_onePort ? _byHost.GetValueOrDefault(connection.LocalIpAddress?.ToString() ?? "") : _byPort.GetValueOrDefault(connection.LocalPort))
        ?? throw new RpcException(new Status(StatusCode.NotFound, $"No swarm member is at {connection.LocalIpAddress}:{connection.LocalPort}."));

    /// <summary>Completes when <paramref name="count"/> distinct members have acknowledged the object's events.</summary>
    public Task WhenAcknowledged(string objectId, int count)
    {
        var tally = _tallies.GetOrAdd(objectId, _ => new Tally());
        tally.Expect(count);
        return tally.Done.Task;
    }

    internal void Acknowledged(Member member, string objectId)
    {
        Interlocked.Increment(ref _verified);
        _tallies.GetOrAdd(objectId, _ => new Tally()).Add(member.Index);
    }

    /// <summary>Signed call metadata from <paramref name="m"/> to the node <paramref name="callee"/>, as PeerClients makes it.</summary>
    /// <remarks>Signed over <paramref name="request"/> (none for SubmitStream) with a fresh call id: one set per call.</remarks>
    public static Metadata Headers(Member m, string method, string callee, Google.Protobuf.IMessage? request = null)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var callId = Guid.NewGuid().ToString();
        var bodyHash = PeerClients.BodyHash(request is null ? [] : Google.Protobuf.MessageExtensions.ToByteArray(request));
        var sig = m.Key.Sign(SignedKind.Call, Encoding.UTF8.GetBytes(PeerClients.CallSigningString(method, ts, m.NodeId, callee, callId, bodyHash)));
        return new Metadata
        {
            { PeerClients.NodeHeader, m.NodeId },
            { PeerClients.TimeHeader, ts },
            { PeerClients.CallIdHeader, callId },
            { PeerClients.BodyHashHeader, bodyHash },
            { PeerClients.SignatureHeader, Convert.ToBase64String(sig) },
            { Federation.Node.Peering.PeerProtocols.Header, Federation.Node.Peering.LocalProtocol.ThisBuild.Header },
        };
    }

    /// <summary>A pledge to <paramref name="callOutId"/>, signed by <paramref name="m"/>, as OriginLog.SubmitAsync makes it.</summary>
    public static SubmitRequest Pledge(Member m, string callOutId)
    {
        var payload = new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            ObjectId = callOutId,
            SubmitterNode = m.NodeId,
            SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            CallOutResponse = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05", Place = "Leeds, 1 High St" },
        };
        var bytes = payload.ToByteString();
        return new SubmitRequest
        {
            Submission = new SignedSubmission { Payload = bytes, Signature = ByteString.CopyFrom(m.Key.Sign(SignedKind.Submission, bytes.Span)), KeyId = m.NodeId },
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var m in Members)
        {
            m.Key.Dispose();
        }
    }
}

/// <summary>What each swarm member answers: the peer service, minus what the load tool never asks of it.</summary>
public sealed class SwarmPeerService(Swarm swarm) : PeerService.PeerServiceBase
{
    private Swarm.Member Me(ServerCallContext context) => swarm.Callee(context.GetHttpContext().Connection);

    public override Task<IdentifyResponse> Identify(IdentifyRequest request, ServerCallContext context)
    {
        var me = Me(context);
        return Task.FromResult(new IdentifyResponse
        {
            NodeId = me.NodeId,
            Name = $"swarm-{me.Index}",
            PublicKey = ByteString.CopyFrom(me.PublicKey),
            Fingerprint = me.Fingerprint,
            // A stand-in for a node of this build: it says so, or the origin would take it
            // for release 0.1.0 and sign its calls the old way.
            Speaks = Federation.Node.Peering.LocalProtocol.ThisBuild.ToWire(),
        });
    }

    public override Task<HelloResponse> Hello(HelloRequest request, ServerCallContext context)
    {
        Authenticate(context);
        return Task.FromResult(new HelloResponse { Speaks = Federation.Node.Peering.LocalProtocol.ThisBuild.ToWire() });
    }

    /// <summary>Members originate nothing, so they share nothing; the origin's catch-up from them ends at once.</summary>
    public override Task<ListSharedResponse> ListShared(ListSharedRequest request, ServerCallContext context)
    {
        Authenticate(context);
        return Task.FromResult(new ListSharedResponse());
    }

    public override Task<DeliverResponse> Deliver(DeliverRequest request, ServerCallContext context)
    {
        var me = Authenticate(context);
        foreach (var envelope in request.Envelopes)
        {
            // The same checks a real node makes of every envelope, signature included, and
            // a refusal goes back as a real node's would.
            VerifiedEvent verified;
            try
            {
                verified = Envelopes.Verify(envelope, swarm.Keys, DateTimeOffset.UtcNow);
            }
            catch (RuleViolation v)
            {
                throw Federation.Node.Grpc.WireRefusals.ToRpc(v);
            }
            swarm.Acknowledged(me, verified.Payload.ObjectId);
        }
        return Task.FromResult(new DeliverResponse { Applied = (uint)request.Envelopes.Count });
    }

    /// <summary>The call must come from the trusted origin and be signed for this member, as PeerAuthenticator checks.</summary>
    private Swarm.Member Authenticate(ServerCallContext context)
    {
        var me = Me(context);
        var caller = context.RequestHeaders.GetValue(PeerClients.NodeHeader) ?? "";
        var ts = context.RequestHeaders.GetValue(PeerClients.TimeHeader) ?? "";
        var sig = context.RequestHeaders.GetValue(PeerClients.SignatureHeader) ?? "";
        // The signature only: this stand-in peer does not check the body against its hash.
        var signing = PeerClients.CallSigningString(context.Method, ts, caller, me.NodeId,
            context.RequestHeaders.GetValue(PeerClients.CallIdHeader) ?? "", context.RequestHeaders.GetValue(PeerClients.BodyHashHeader) ?? "");
        if (caller != swarm.OriginId || sig.Length == 0
            || !swarm.Keys.Verify(caller, SignedKind.Call, Encoding.UTF8.GetBytes(signing), Convert.FromBase64String(sig)))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Not signed by the trusted origin for this member."));
        }
        return me;
    }
}
