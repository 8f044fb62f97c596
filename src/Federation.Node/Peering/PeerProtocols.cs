using System.Collections.Concurrent;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Delivery;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Delivery;
using Federation.Node.Grpc;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Peering;

/// <summary>
/// What this node speaks, replaced in tests that need a node of another protocol version.
/// </summary>
public sealed record LocalProtocol(SpokenProtocol Spoken)
{
    public static LocalProtocol ThisBuild { get; } = new(new SpokenProtocol(Protocol.Current, SoftwareVersion.Number, Protocol.ThisBuild));

    /// <summary>The x-fed-protocol header every peer call carries.</summary>
    public string Header => Spoken.Protocol.ToString();

    public Speaks ToWire()
    {
        var wire = new Speaks { ProtocolVersion = Spoken.Protocol.ToString(), SoftwareVersion = Spoken.Software };
        wire.Capabilities.AddRange(Spoken.Capabilities.Order(StringComparer.Ordinal));
        return wire;
    }
}

/// <summary>
/// Versions and capabilities between this node and each peer (docs/protocol.md
/// "Compatibility"). Each side says what it speaks in Identify and Hello, and every call
/// names its protocol version in x-fed-protocol. A node says Hello to every peer when it
/// starts and at an interval, and answers each Hello with its own, so a peer that upgraded
/// is seen as soon as it restarts. Another major version is refused, both ways, with a
/// message naming both versions; it is recorded for the operator and nothing is parked.
/// </summary>
public sealed class PeerProtocols(
    IFederationStore store,
    PeerClients clients,
    LocalProtocol local,
    OutboxSignal outbox,
    NodeIdentity identity,
    NodeKeys nodeKeys,
    Relay.RelayOffers relayOffers,
    IOptions<NodeOptions> options,
    ILogger<PeerProtocols> log)
{
    public const string Header = "x-fed-protocol";

    // The last x-fed-protocol each peer sent, so that a call costs no database read unless it changed.
    private readonly ConcurrentDictionary<string, string> _lastHeader = new();

    public Speaks Advertisement => local.ToWire();

    /// <summary>The Hello this node says: what it speaks, where it is now, the key it signs with and its network's revocations.</summary>
    public HelloRequest Hello() => new()
    {
        Speaks = Advertisement,
        Address = options.Value.AnnouncedAddress,
        Certificate = identity.Current.Certificate,
        Revocations = { nodeKeys.Ours },
        Relay = relayOffers.Ours(),
    };

    /// <summary>A peer's relay settings, said in its Hello or its answer to ours (docs/adr/0027).</summary>
    public Task HeardRelayAsync(string nodeId, RelayOffer? offer, CancellationToken ct) => relayOffers.HeardAsync(nodeId, offer, ct);

    public ProtocolVersion Ours => local.Spoken.Protocol;

    /// <summary>
    /// A peer said what it speaks (Hello, Identify): recorded, or refused as another major
    /// version (recorded too, with the reason, then thrown as the refusal).
    /// </summary>
    public async Task HeardAsync(string nodeId, string name, Speaks? theirs, CancellationToken ct)
    {
        var spoken = theirs is null ? Protocol.Legacy() : Protocol.Read(theirs.ProtocolVersion, theirs.SoftwareVersion, theirs.Capabilities);
        string? refusal = null;
        try
        {
            Protocol.RequireSameMajor(local.Spoken.Protocol, spoken.Protocol, $"peer {name}");
        }
        catch (RuleViolation v)
        {
            refusal = v.Message;
            await RecordAsync(nodeId, spoken, refusal, ct);
            log.LogWarning("Peer {Peer} speaks another major protocol version: {Refusal}", name, refusal);
            throw WireRefusals.ProtocolRefusal(v, local.Header);
        }
        await RecordAsync(nodeId, spoken, null, ct);
        _lastHeader[nodeId] = spoken.Protocol.ToString();
    }

    /// <summary>
    /// Every authenticated call: the caller's x-fed-protocol. A caller that sends none is a
    /// release before the exchange (protocol 1.0). Another major version is refused; a new
    /// minor version (the peer upgraded) is recorded, and a Hello asks it what it has now.
    /// </summary>
    /// <param name="saysItself">The call is a Hello, which carries what the caller speaks: no Hello back is needed to learn it.</param>
    public async Task CheckCallAsync(PeerRecord caller, string? header, bool saysItself, CancellationToken ct)
    {
        header ??= Protocol.Unadvertised.ToString();
        if (_lastHeader.TryGetValue(caller.NodeId, out var last) && last == header)
        {
            return;
        }
        var version = ProtocolVersion.Parse(header)
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"The call's {Header} header is not a protocol version (MAJOR.MINOR)."));
        if (version.Major != local.Spoken.Protocol.Major)
        {
            var wire = new Speaks { ProtocolVersion = version.ToString() };
            await HeardAsync(caller.NodeId, caller.Name, wire, ct); // records the refusal, then throws it
        }
        _lastHeader[caller.NodeId] = header;
        if (saysItself)
        {
            return;
        }
        var known = store.PeerProtocol(caller.NodeId);
        if (known is null || known.Protocol != header || known.Refusal is not null)
        {
            // Learn its capabilities too; not on this call's time.
            _ = Task.Run(() => ExchangeAsync(caller, CancellationToken.None), CancellationToken.None);
        }
    }

    /// <summary>Says Hello to a peer and records what it answers. Failures are logged: the next exchange tries again.</summary>
    public async Task ExchangeAsync(PeerRecord peer, CancellationToken ct)
    {
        try
        {
            var hello = Hello();
            var answer = await clients.For(peer.Address, peer.NodeId).HelloAsync(hello, clients.Options(peer.NodeId, Methods.Hello, ct, request: hello));
            await HeardAsync(peer.NodeId, peer.Name, answer.Speaks, ct);
            await nodeKeys.AcceptAsync(peer.NodeId, answer.Revocations, ct);
            await HeardRelayAsync(peer.NodeId, answer.Relay, ct);
        }
        catch (RpcException ex) when (ex.Trailers.GetValue(WireRefusals.ProtocolTrailer) is not null)
        {
            // It refused us for our version: it said so in words, which its operator sees too.
            var theirs = ProtocolVersion.Parse(ex.Trailers.GetValue(WireRefusals.ProtocolTrailer)!) ?? Protocol.Unadvertised;
            await RecordAsync(peer.NodeId, new SpokenProtocol(theirs, "", new HashSet<string>()), ex.Status.Detail, ct);
            log.LogWarning("Peer {Peer} refused this node's protocol version: {Detail}", peer.Name, ex.Status.Detail);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            // No Hello: a release before the exchange (0.1.0), which is then called the old way.
            await RecordAsync(peer.NodeId, Protocol.Legacy(), null, ct);
        }
        catch (RuleViolation v)
        {
            log.LogWarning("Peer {Peer}'s advertisement was not accepted: {Reason}", peer.Name, v.Message);
        }
        catch (RpcException ex)
        {
            log.LogDebug("Could not exchange versions with {Peer} for now ({Status})", peer.Name, ex.StatusCode);
        }
    }

    /// <summary>Exchanges with every peer this node can talk to.</summary>
    public Task ExchangeWithAllAsync(CancellationToken ct) =>
        Task.WhenAll(store.ListPeers().Where(p => PeerStates.Reachable(p.State)).Select(p => ExchangeAsync(p, ct)));

    /// <summary>What each peer speaks, for the peers list.</summary>
    public IReadOnlyDictionary<string, PeerProtocol> All() => store.PeerProtocols().ToDictionary(p => p.NodeId, p =>
    {
        var wire = new PeerProtocol
        {
            ProtocolVersion = p.Protocol,
            SoftwareVersion = p.Software,
            SeenAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(p.SeenAt),
            Refusal = p.Refusal ?? "",
        };
        wire.Capabilities.AddRange(p.CapabilitySet.Order(StringComparer.Ordinal));
        return wire;
    });

    /// <summary>
    /// Records what a peer speaks. Items that were waiting for a capability it now has go
    /// back in its queue in the same write (<see cref="CapabilityGate"/>), and are sent.
    /// </summary>
    private async Task RecordAsync(string nodeId, SpokenProtocol spoken, string? refusal, CancellationToken ct)
    {
        var ready = refusal is not null ? [] : store.ListDeadLetters(nodeId)
            .Where(d => d.WaitsFor is { } capability && spoken.Capabilities.Contains(capability))
            .Select(d => d.Id)
            .ToList();
        var replayed = await store.WriteAsync(tx =>
        {
            tx.SetPeerProtocol(new PeerProtocolRecord(nodeId, spoken.Protocol.ToString(), spoken.Software,
                string.Join(' ', spoken.Capabilities.Order(StringComparer.Ordinal)), default, refusal));
            return ready.Count == 0 ? 0 : tx.ReplayDeadLetters(ready);
        }, ct);
        if (replayed > 0)
        {
            log.LogInformation("Peer {Peer} has what {Count} waiting items needed; they are queued again", nodeId, replayed);
            outbox.Poke();
        }
    }
}

/// <summary>Says Hello to every peer when the node starts and then at an interval (Node:ProtocolExchangeInterval).</summary>
public sealed class ProtocolExchange(PeerProtocols protocols, IOptions<Core.NodeOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ProtocolExchangeInterval);
        do
        {
            await protocols.ExchangeWithAllAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
