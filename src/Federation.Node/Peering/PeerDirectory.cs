using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Delivery;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Peering;

/// <summary>
/// The peers this node trusts. Adding one pins its key: the operator names the
/// address and the fingerprint the other operator read out; the key fetched from
/// the address must hash to that fingerprint or nothing is stored.
/// A peer is <c>pending</c> until the other side has added this node too, then
/// <c>active</c>; an operator can <c>suspend</c> or <c>revoke</c> it at any time.
/// </summary>
public sealed class PeerDirectory(
    IFederationStore store,
    PeerKeys keys,
    PeerClients clients,
    PeerCalls calls,
    PeerProtocols protocols,
    NodeIdentity identity,
    OutboxSignal signal,
    NodeKeys nodeKeys,
    CatchUpSignal catchUp,
    IOptions<NodeOptions> options,
    ILogger<PeerDirectory> log)
{
    /// <summary>Loads pinned keys into the cache at start-up.</summary>
    public void LoadPinnedKeys()
    {
        foreach (var p in store.ListPeers().Where(p => PeerStates.Reachable(p.State)))
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
        CheckAddress(address);
        IdentifyResponse who;
        try
        {
            who = await clients.For(address, expected).IdentifyAsync(new IdentifyRequest(), clients.Options(expected, Methods.Identify, ct));
        }
        catch (RpcException ex) when (PeerCertificateMismatchException.In(ex) is { } mismatch)
        {
            // The TLS handshake showed another key than the fingerprint names: the same
            // refusal as a mismatching Identify, before anything was asked of that node.
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"The node at {address} presented a TLS certificate for {(mismatch.Presented is { } p ? Identifiers.Fingerprint(p) : "no node key")}, not {Identifiers.Fingerprint(expected)}. Nothing was added: check the address and the fingerprint with its operator."));
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
        // Another major protocol version: refused before anything is stored, naming both.
        var speaks = who.Speaks is { } s ? Protocol.Read(s.ProtocolVersion, s.SoftwareVersion, s.Capabilities) : Protocol.Legacy();
        Protocol.RequireSameMajor(protocols.Ours, speaks.Protocol, $"the node at {address}");
        Text.Check("peer name", who.Name, Text.ShortMax);
        Text.Check("peer region", who.Region, Text.ShortMax);
        var record = new PeerRecord(actual, who.Name, address.TrimEnd('/'), who.PublicKey.ToByteArray(), PeerStates.Pending, DateTimeOffset.UtcNow);
        await store.WriteAsync(tx =>
        {
            tx.UpsertPeer(record);
            // Adding a peer again refreshes its region, as it refreshes its name.
            tx.SetPeerRegion(actual, who.Region.Trim());
            // Where it says it is: a later move is followed only from there (AnnouncedAsync).
            if (who.Address.Length > 0 && who.Address.Length <= Text.ShortMax)
            {
                tx.SetAnnouncedAddress(actual, who.Address.TrimEnd('/'));
            }
            return true;
        }, ct);
        keys.Pin(actual, record.PublicKey);
        // What its network has revoked counts from the first moment it is a peer.
        await nodeKeys.AcceptAsync(actual, who.Revocations, ct);
        await protocols.HeardAsync(actual, who.Name, who.Speaks, ct);
        // If the other operator has already added us, peering is mutual now.
        try
        {
            var helloRequest = protocols.Hello();
            var hello = await clients.For(record.Address, actual).HelloAsync(helloRequest, clients.Options(actual, Methods.Hello, ct, request: helloRequest));
            await protocols.HeardAsync(actual, who.Name, hello.Speaks, ct);
            await protocols.HeardRelayAsync(actual, hello.Relay, ct);
            await MarkActiveAsync(actual, ct);
            record = record with { State = PeerStates.Active };
        }
        catch (RpcException ex)
        {
            // Not added us yet (Unauthenticated: a node tells nobody it has not verified
            // whom it knows), or unreachable for now: pending until a
            // call in either direction succeeds.
            log.LogInformation("Peer {Peer} added; pending until its operator adds this node ({Status})", who.Name, ex.StatusCode);
        }
        signal.Poke(); // anything already queued for this node can go now
        return record;
    }

    /// <summary>An address this node can call a peer at: one rule for an operator's and for a peer's own.</summary>
    private void CheckAddress(string address)
    {
        if (address.Length > Text.ShortMax || !Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw RuleViolation.Invalid($"'{Identifiers.Truncate(address)}' is not a node address; expected something like http://127.0.0.1:5002.");
        }
        if (options.Value.Tls && uri.Scheme != "https")
        {
            throw RuleViolation.Invalid($"This node runs with TLS, so its peers must too: expected an https:// address, not '{address}'.");
        }
    }

    /// <summary>
    /// A peer said, in a Hello signed with its key, that it is at <paramref name="address"/>.
    /// If this node was calling it at the address it announced before, it follows it there: a
    /// node restored on a new server (issue 16 #4). Only the key's holder can say it, as only
    /// it can make any other call. An operator who reaches the peer another way (a proxy, a
    /// VPN: an address the peer never announced) keeps that way. What waits for the peer is
    /// tried at the new address at once, not at the next backoff.
    /// </summary>
    public async Task AnnouncedAsync(PeerRecord peer, string address, CancellationToken ct)
    {
        address = address.TrimEnd('/');
        if (address.Length == 0)
        {
            return;
        }
        CheckAddress(address);
        var now = DateTimeOffset.UtcNow;
        var moved = await store.WriteAsync(tx =>
        {
            var before = tx.AnnouncedAddress(peer.NodeId);
            if (before == address)
            {
                return false;
            }
            tx.SetAnnouncedAddress(peer.NodeId, address);
            if (before is null || peer.Address != before || peer.Address == address)
            {
                return false;
            }
            tx.UpsertPeer(peer with { Address = address });
            if (tx.IsFailing(peer.NodeId))
            {
                tx.RecordFailure(peer.NodeId, $"it moved from {peer.Address} to {address}; trying there now", now, countAttempt: false);
            }
            return true;
        }, ct);
        if (moved)
        {
            log.LogWarning("Peer {Peer} ({Fingerprint}) moved from {Old} to {New}: it said so in a call signed with its key", peer.Name,
                Identifiers.Fingerprint(peer.NodeId), peer.Address, address);
            signal.Poke();
        }
    }

    /// <summary>A pending peer proved it has added us (it called us, or answered our signed call): peering is mutual.</summary>
    public async Task MarkActiveAsync(string nodeId, CancellationToken ct)
    {
        var changed = await store.WriteAsync(tx => tx.SetPeerState(nodeId, PeerStates.Active, onlyFrom: PeerStates.Pending), ct);
        if (changed)
        {
            log.LogInformation("Peering with {Peer} is mutual: active", nodeId);
            // What it holds for this node is pulled now, not at the next periodic pass: a new
            // server stood up with no backup learns its peers' objects at once (issue 16 #4).
            catchUp.Request(nodeId);
        }
    }

    public async Task<PeerInfo> SetStateAsync(string network, string state, CancellationToken ct)
    {
        var nodeId = Identifiers.NodeIdFromFingerprint(network);
        var peer = store.GetPeer(nodeId) ?? throw RuleViolation.NotFound($"{Identifiers.Fingerprint(nodeId)} is not a peer of this node.");
        if (state is not (PeerStates.Active or PeerStates.Suspended or PeerStates.Revoked))
        {
            throw RuleViolation.Invalid($"A peer's state can be set to active, suspended or revoked, not '{state}'.");
        }
        if (peer.State == PeerStates.Revoked && state != PeerStates.Revoked)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, "explicit peering",
                "A revoked peer stays revoked. To trust it again, add it afresh with its address and fingerprint.");
        }
        await store.WriteAsync(tx =>
        {
            tx.SetPeerState(nodeId, state, onlyFrom: null);
            if (state == PeerStates.Revoked)
            {
                // Nothing more is sent to a revoked peer.
                tx.DropOutbox(nodeId);
            }
            return true;
        }, ct);
        if (PeerStates.Reachable(state))
        {
            keys.Pin(nodeId, peer.PublicKey);
            signal.Poke();
        }
        else
        {
            // Takes effect at once: the next call or envelope from it is refused.
            keys.Forget(nodeId);
        }
        log.LogWarning("Peer {Peer} is now {State}", peer.Name, state);
        return List().Single(p => p.NodeId == nodeId);
    }

    /// <summary>
    /// Allows a peer to relay for this node, or no longer (docs/adr/0027), and tells every peer
    /// at once in a Hello: a sender learns which relays its peer allows, and a relay that it may
    /// carry for this node, before the direct path fails.
    /// </summary>
    public async Task<PeerInfo> SetRelayAsync(string network, bool allowed, CancellationToken ct)
    {
        if (network.Length == 0)
        {
            throw RuleViolation.Invalid("Name the peer: its fingerprint, node id or name (`solnet peers` lists them).");
        }
        var byName = store.ListPeers().Where(p => string.Equals(p.Name, network, StringComparison.OrdinalIgnoreCase)).ToList();
        var peer = byName.Count == 1 ? byName[0] : ByFingerprint(network)
            ?? throw RuleViolation.NotFound($"{network} is not a peer of this node: only a peer can relay for it (`solnet peers` lists them).");
        await store.WriteAsync(tx =>
        {
            tx.SetRelayAllowed(peer.NodeId, allowed);
            return true;
        }, ct);
        log.LogWarning("Peer {Peer} {Change} relay for this node", peer.Name, allowed ? "may now" : "may no longer");
        // Not on this call's time: a peer that is cut off hears it at its next exchange.
        _ = Task.Run(() => protocols.ExchangeWithAllAsync(CancellationToken.None), CancellationToken.None);
        return List().Single(p => p.NodeId == peer.NodeId);
    }

    /// <summary>The peer with this fingerprint or node id; null for one that is none, or for text that is not a fingerprint (a name no peer has).</summary>
    private PeerRecord? ByFingerprint(string network)
    {
        var id = new string(network.Where(c => c is not ('-' or ' ' or ':')).ToArray()).ToLowerInvariant();
        return Identifiers.IsNodeId(id) ? store.GetPeer(id) : null;
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
        var regions = store.PeerRegions().ToDictionary(r => r.NodeId, r => r.Region);
        var catchUp = store.CatchUpStates().ToDictionary(c => c.PeerId);
        var deadLetters = store.DeadLetterCounts();
        var spoken = protocols.All();
        var relayAllowed = store.RelayAllowed();
        var routes = store.RelayRoutes().ToDictionary(r => r.PeerId);
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
                Region = regions.GetValueOrDefault(p.NodeId, ""),
                LastError = d?.LastError ?? (c?.LastError is { } e ? $"catch-up: {e}" : ""),
                Health = failingSince is null ? PeerHealth.Healthy
                    : now - failingSince >= options.Value.UnavailableAfter ? PeerHealth.Unavailable
                    : PeerHealth.Failing,
                Attempts = (uint)(d?.Attempts ?? 0),
                DeadLetters = (ulong)deadLetters.GetValueOrDefault(p.NodeId).Refused,
                Waiting = (ulong)deadLetters.GetValueOrDefault(p.NodeId).Waiting,
                CircuitOpen = calls.IsOpen(p.NodeId),
                FailingSince = Stamp(failingSince),
                OldestPendingAt = Stamp(d?.OldestPendingAt),
                NextAttemptAt = d?.FailingSince is not null ? Stamp(d.NextAttemptAt) : null,
                LastDeliveredAt = Stamp(d?.LastDeliveredAt),
                CaughtUpAt = Stamp(c?.CaughtUpAt),
                Protocol = spoken.GetValueOrDefault(p.NodeId),
                RelayAllowed = relayAllowed.Contains(p.NodeId),
            };
            // Reached by relay until a direct delivery succeeds again.
            if (routes.TryGetValue(p.NodeId, out var route))
            {
                info.RelayedVia = route.RelayId;
                info.RelayedAt = Stamp(route.SentAt);
            }
            if (store.PeerRelayOfferOf(p.NodeId) is { } offer)
            {
                info.PeerAllowedRelays.AddRange(offer.AllowedRelays);
            }
            return info;
        }).ToList();
    }

    private static Timestamp? Stamp(DateTimeOffset? t) => t is { } v ? Timestamp.FromDateTimeOffset(v) : null;
}
