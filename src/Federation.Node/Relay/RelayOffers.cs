using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Relay;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Node.Relay;

/// <summary>
/// What this node and its peers say about relaying (docs/adr/0027): the peers each operator
/// allows to relay for it, and each node's sealing key, signed by its current node key. Said
/// in Hello, both ways, so a sender knows which relays its peer allows before the direct path
/// fails, and a relay knows which of its peers allow it.
/// </summary>
public sealed class RelayOffers(IFederationStore store, NodeIdentity identity, SealingKey sealingKey, PeerKeys keys, NodeClock clock, ILogger<RelayOffers> log)
{
    /// <summary>This node's offer: its allowed relays and its sealing key, signed now by its current key.</summary>
    public RelayOffer Ours()
    {
        var offer = new RelayOffer
        {
            SealingKey = RelayFormat.SignSealingKey(identity.NodeId, sealingKey.PublicKey, identity.Current, clock.UtcNow),
        };
        offer.AllowedRelays.AddRange(store.RelayAllowed().Order(StringComparer.Ordinal));
        return offer;
    }

    /// <summary>
    /// A peer's offer, from its Hello or its answer to ours: kept once its sealing key checks
    /// against the peer's keys. A peer of a release without relay sends none, and nothing is kept.
    /// </summary>
    public async Task HeardAsync(string peerId, RelayOffer? offer, CancellationToken ct)
    {
        if (offer is null)
        {
            return;
        }
        byte[]? key = null;
        if (offer.SealingKey is { } signed)
        {
            try
            {
                key = RelayFormat.CheckSealingKey(signed, peerId, keys);
            }
            catch (RuleViolation v)
            {
                // Kept without a key: nothing is sealed to it, so nothing goes to it by relay.
                log.LogWarning("Peer {Peer}'s sealing key was not accepted: {Reason}", Identifiers.Fingerprint(peerId), v.Message);
            }
        }
        var relays = offer.AllowedRelays.Where(Identifiers.IsNodeId).Distinct().ToList();
        await store.WriteAsync(tx =>
        {
            tx.SetPeerRelayOffer(new PeerRelayOffer(peerId, relays, key, clock.UtcNow));
            return true;
        }, ct);
    }

    /// <summary>Whether <paramref name="peerId"/> said it allows <paramref name="relayId"/> to relay for it.</summary>
    public bool Allows(string peerId, string relayId) =>
        store.PeerRelayOfferOf(peerId) is { } offer && offer.AllowedRelays.Contains(relayId);
}
