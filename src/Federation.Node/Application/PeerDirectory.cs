using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Delivery;
using Federation.Node.Identity;
using Federation.Node.Storage;
using Federation.Node.Hosting;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Application;

/// <summary>
/// The peers this node trusts. Adding one pins its key: the operator names the
/// address and the fingerprint the other operator read out; the key fetched from
/// the address must hash to that fingerprint or nothing is stored.
/// </summary>
public sealed class PeerDirectory(
    SqliteStore store,
    PeerKeys keys,
    PeerClients clients,
    PeerCalls calls,
    NodeIdentity identity,
    OutboxSignal signal,
    IOptions<NodeOptions> options)
{
    public const string Active = "active";

    /// <summary>Loads pinned keys into the cache at start-up.</summary>
    public void LoadPinnedKeys()
    {
        foreach (var p in store.ListPeers().Where(p => p.State == Active))
        {
            keys.Pin(p.NodeId, p.PublicKey);
        }
    }

    public async Task<PeerRecord> AddAsync(string address, string fingerprint, CancellationToken ct)
    {
        var expected = Identifiers.NodeIdFromFingerprint(fingerprint);
        if (expected == identity.NodeId)
        {
            throw RuleViolation.Invalid("That fingerprint is this node's own.");
        }
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw RuleViolation.Invalid($"'{address}' is not a node address; expected something like http://127.0.0.1:5002.");
        }
        IdentifyResponse who;
        try
        {
            who = await clients.For(address).IdentifyAsync(new IdentifyRequest(), clients.Options(expected, Methods.Identify, ct));
        }
        catch (RpcException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"Could not reach a node at {address} ({ex.StatusCode}: {ex.Status.Detail}). Is it running, and is the address right?"));
        }
        var actual = Identifiers.NodeIdFromPublicKey(who.PublicKey.Span);
        if (actual != expected)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"The node at {address} has fingerprint {Identifiers.Fingerprint(actual)}, not {Identifiers.Fingerprint(expected)}. Nothing was added: check the fingerprint with its operator."));
        }
        Text.Check("peer name", who.Name, Text.ShortMax);
        var record = new PeerRecord(actual, who.Name, address.TrimEnd('/'), who.PublicKey.ToByteArray(), Active, DateTimeOffset.UtcNow);
        await store.WriteAsync(tx =>
        {
            tx.UpsertPeer(record);
            return true;
        }, ct);
        keys.Pin(actual, record.PublicKey);
        signal.Poke(); // anything already queued for this node can go now
        return record;
    }

    /// <summary>
    /// Every peer with how this node's dealings with it stand: healthy, or failing since
    /// when (delivery to it or catch-up from it), how far behind it is, and unavailable
    /// once it has been failing for longer than <see cref="NodeOptions.UnavailableAfter"/>.
    /// </summary>
    public IReadOnlyList<PeerInfo> List()
    {
        var now = DateTimeOffset.UtcNow;
        var delivery = store.DeliveryStates().ToDictionary(d => d.PeerId);
        var catchUp = store.CatchUpStates().ToDictionary(c => c.PeerId);
        var deadLetters = store.DeadLetterCounts();
        return store.ListPeers().Select(p =>
        {
            delivery.TryGetValue(p.NodeId, out var d);
            catchUp.TryGetValue(p.NodeId, out var c);
            var failingSince = new[] { d?.FailingSince, c?.FailingSince }.Where(t => t is not null).Min();
            var info = new PeerInfo
            {
                NodeId = p.NodeId,
                Name = p.Name,
                Address = p.Address,
                Fingerprint = Identifiers.Fingerprint(p.NodeId),
                State = p.State,
                Pending = (ulong)(d?.Pending ?? 0),
                LastError = d?.LastError ?? (c?.LastError is { } e ? $"catch-up: {e}" : ""),
                Health = failingSince is null ? PeerHealth.Healthy
                    : now - failingSince >= options.Value.UnavailableAfter ? PeerHealth.Unavailable
                    : PeerHealth.Failing,
                Attempts = (uint)(d?.Attempts ?? 0),
                DeadLetters = (ulong)deadLetters.GetValueOrDefault(p.NodeId),
                CircuitOpen = calls.IsOpen(p.NodeId),
                FailingSince = Stamp(failingSince),
                OldestPendingAt = Stamp(d?.OldestPendingAt),
                NextAttemptAt = d?.FailingSince is not null ? Stamp(d.NextAttemptAt) : null,
                LastDeliveredAt = Stamp(d?.LastDeliveredAt),
                CaughtUpAt = Stamp(c?.CaughtUpAt),
            };
            return info;
        }).ToList();
    }

    private static Timestamp? Stamp(DateTimeOffset? t) => t is { } v ? Timestamp.FromDateTimeOffset(v) : null;

    /// <summary>Refuses unless every id names an active peer; says which is not.</summary>
    public void RequirePeers(IEnumerable<string> nodeIds)
    {
        var known = store.ListPeers().Where(p => p.State == Active).Select(p => p.NodeId).ToHashSet();
        foreach (var id in nodeIds)
        {
            if (!known.Contains(id))
            {
                throw new RuleViolation(RefusalKind.FailedPrecondition, "explicit peering",
                    $"{Identifiers.Fingerprint(id)} is not a peer of this node. Add it first (address and fingerprint).");
            }
        }
    }

    public IReadOnlyList<string> ActivePeerIds() => store.ListPeers().Where(p => p.State == Active).Select(p => p.NodeId).ToList();
}
