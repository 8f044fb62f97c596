using Federation.Contracts;
using BenchmarkDotNet.Attributes;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Storage;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Federation.Benchmarks;

/// <summary>
/// The per-event work on the write and receive paths, one piece at a time, so a change
/// in the load tool's figures can be traced to the piece that moved.
/// </summary>
[MemoryDiagnoser]
public class HotPaths
{
    private string _dir = "";
    private NodeIdentity _identity = null!;
    private PeerKeys _keys = null!;
    private byte[] _payload = [];
    private byte[] _signature = [];
    private StoredEvent _event = null!;
    private byte[] _envelope = [];
    private CallOutState _callOut = null!;
    private EventPayload _response = null!;
    private SqliteStore _store = null!;
    private OriginLog _log = null!;
    private string _callOutId = "";
    private string _responder = "";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("fed-bench-").FullName;
        _identity = NodeIdentity.LoadOrCreate(_dir, networkKeyAlgorithm: SignatureAlgorithm.EcdsaP256Sha256);
        _keys = new PeerKeys();
        _keys.Pin(_identity.NodeId, _identity.PublicKey);
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        _responder = Identifiers.NodeIdFromPublicKey(other.ExportSubjectPublicKeyInfo());

        _callOutId = Identifiers.NewObjectId(_identity.NodeId);
        var published = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = _callOutId,
            ObjectKind = ObjectKind.CallOut,
            Sequence = 1,
            OriginNode = _identity.NodeId,
            ActorNode = _identity.NodeId,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Body = CallOuts.Publish(Content(), [_responder], new CallOutAudience { Kind = AudienceKind.ChosenPeers, Networks = { _responder } }),
        };
        _callOut = (CallOutState)EventLog.Apply(null, published);
        _response = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = _callOutId,
            ObjectKind = ObjectKind.CallOut,
            Sequence = 2,
            OriginNode = _identity.NodeId,
            ActorNode = _responder,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Body = new EventBody { CallOutResponded = new CallOutResponded { Network = _responder, Response = Pledge() } },
        };
        _payload = _response.ToByteArray();
        _signature = _identity.Sign(SignedKind.Event, _payload);
        _ed25519Signature = Ed25519.Sign(SignedKind.Event, _payload);
        _event = new StoredEvent(_callOutId, ObjectKind.CallOut, 2, _response.EventId, _payload, _signature);
        _envelope = Envelopes.Build(_event, _identity.Algorithm).ToByteArray();

        _store = new SqliteStore(Options.Create(new NodeOptions { DataDir = _dir }));
        _log = new OriginLog(_store, _identity, new OutboxSignal(), new NodeClock(Options.Create(new NodeOptions())));
        _log.AppendAsync(_callOutId, ObjectKind.CallOut, _identity.NodeId, _ => [published.Body]).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        _identity.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static CallOutContent Content() => new()
    {
        Title = "Picket the Leeds branch",
        Target = new Target { Name = "Bistro Co", ParentCompany = "Bistro Holdings" },
        DemandSummary = "Pay the £2,400 in stolen wages",
        Places = { new Place { City = "Leeds", Address = "1 High St" } },
        ActionTypes = { ActionType.Picket },
    };

    private static CallOutResponse Pledge() => new() { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05", Place = "Leeds, 1 High St" };

    [Benchmark(Description = "sign an event (ECDSA P-256)")]
    public byte[] Sign() => _identity.Sign(SignedKind.Event, _payload);

    [Benchmark(Description = "verify an event signature (ECDSA P-256)")]
    public bool Verify() => _keys.Verify(_identity.NodeId, SignedKind.Event, _payload, _signature);

    // The same payload under an Ed25519 node key (docs/adr/0028), side by side with the two above.
    private static readonly SigningKey Ed25519 = SigningKey.Create(SignatureAlgorithm.Ed25519);
    private static readonly VerifyingKey Ed25519Public = VerifyingKey.Import(Ed25519.PublicKey);
    private byte[] _ed25519Signature = [];

    [Benchmark(Description = "sign an event (Ed25519)")]
    public byte[] SignEd25519() => Ed25519.Sign(SignedKind.Event, _payload);

    [Benchmark(Description = "verify an event signature (Ed25519)")]
    public bool VerifyEd25519() => Ed25519Public.Verify(SignedKind.Event, _payload, _ed25519Signature);

    [Benchmark(Description = "envelope encode")]
    public byte[] EnvelopeEncode() => Envelopes.Build(_event, _identity.Algorithm).ToByteArray();

    [Benchmark(Description = "envelope decode")]
    public Envelope EnvelopeDecode() => Envelope.Parser.ParseFrom(_envelope);

    [Benchmark(Description = "domain apply (a pledge)")]
    public IMessage DomainApply() => EventLog.Apply(_callOut.Clone(), _response);

    [Benchmark(Description = "outbox write (one durable append)")]
    public Task<AppendResult> OutboxWrite() =>
        _log.AppendAsync(_callOutId, ObjectKind.CallOut, _responder,
            _ => [new EventBody { CallOutResponded = new CallOutResponded { Network = _responder, Response = Pledge() } }]);
}
