using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Delivery;
using Federation.Node.Identity;
using Federation.Node.Storage;
using Grpc.Core;

namespace Federation.Node.Application;

/// <summary>
/// The peers this node trusts. Adding one pins its key: the operator names the
/// address and the fingerprint the other operator read out; the key fetched from
/// the address must hash to that fingerprint or nothing is stored.
/// </summary>
public sealed class PeerDirectory(SqliteStore store, PeerKeys keys, PeerClients clients, NodeIdentity identity, OutboxSignal signal)
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
        Text.Check("peer region", who.Region, Text.ShortMax);
        var record = new PeerRecord(actual, who.Name, address.TrimEnd('/'), who.PublicKey.ToByteArray(), Active, DateTimeOffset.UtcNow);
        await store.WriteAsync(tx =>
        {
            tx.UpsertPeer(record);
            // Adding a peer again refreshes its region, as it refreshes its name.
            tx.SetPeerRegion(actual, who.Region.Trim());
            return true;
        }, ct);
        keys.Pin(actual, record.PublicKey);
        signal.Poke(); // anything already queued for this node can go now
        return record;
    }

    public IReadOnlyList<PeerInfo> List()
    {
        var delivery = store.DeliveryStates().ToDictionary(d => d.PeerId);
        var regions = store.PeerRegions().ToDictionary(r => r.NodeId, r => r.Region);
        return store.ListPeers().Select(p =>
        {
            delivery.TryGetValue(p.NodeId, out var d);
            return new PeerInfo
            {
                NodeId = p.NodeId,
                Name = p.Name,
                Address = p.Address,
                Fingerprint = Identifiers.Fingerprint(p.NodeId),
                State = p.State,
                Pending = (ulong)(d?.Pending ?? 0),
                LastError = d?.LastError ?? "",
                Region = regions.GetValueOrDefault(p.NodeId, ""),
            };
        }).ToList();
    }

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
