using System.Runtime.CompilerServices;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Node.Delivery;

/// <summary>
/// Items a peer cannot take yet (docs/protocol.md "Compatibility"). An item that needs a
/// capability the peer has not advertised is never sent to fail: it is set aside beside the
/// peer's dead letters with the status <c>WAITING_FOR capability</c> and a reason the
/// operator reads, and goes back in the peer's queue by itself once the peer says it has
/// that capability (<see cref="Peering.PeerProtocols"/>). Setting it aside, rather than
/// stopping the queue at it, lets everything else still reach a peer that has not upgraded.
/// </summary>
public sealed class CapabilityGate(IPeerReads store)
{
    // Event envelopes are shared between the peers' batches (one byte[] per event), so each
    // is looked at once however many peers it goes to.
    private static readonly ConditionalWeakTable<byte[], string[]> EventNeeds = new();

    /// <summary>The dead-letter status of an item waiting for <paramref name="capability"/>.</summary>
    public static string WaitingStatus(string capability) => DeadLetter.WaitingPrefix + capability;

    /// <summary>The first item of <paramref name="batch"/> the peer cannot take, with the capability it needs; null when it can take them all.</summary>
    public (int Index, string Capability)? FirstWaiting(string peerId, IReadOnlyList<OutboxItem> batch) => FirstLacking(peerId, batch, Needed);

    /// <summary>
    /// How many of <paramref name="events"/> (one object's, in order) the peer can take when
    /// it fetches them: all up to the first it cannot. That one waits, as it would in the
    /// peer's queue, and what follows it too (a replica applies a log in order); the peer
    /// fetches them once it has the capability.
    /// </summary>
    public int TakeableCount(string peerId, IReadOnlyList<Envelope> events) =>
        FirstLacking(peerId, events, NeededBy) is { } first ? first.Index : events.Count;

    private (int Index, string Capability)? FirstLacking<T>(string peerId, IReadOnlyList<T> items, Func<T, string[]> needed)
    {
        IReadOnlySet<string>? has = null;
        for (var i = 0; i < items.Count; i++)
        {
            // The peer's capabilities are read only when an item needs one: most need none.
            foreach (var capability in needed(items[i]))
            {
                if (!(has ??= Advertised(peerId)).Contains(capability))
                {
                    return (i, capability);
                }
            }
        }
        return null;
    }

    /// <summary>What the operator reads about a waiting item.</summary>
    public string Reason(PeerRecord peer, OutboxItem item, string capability)
    {
        var known = store.PeerProtocol(peer.NodeId);
        var runs = known is null ? "has not said what it runs yet" : $"runs release {(known.Software.Length > 0 ? known.Software : "0.1.0 or earlier")} (protocol {known.Protocol})";
        return $"Waits for {peer.Name} to upgrade: this {(item.Kind == OutboxKind.Event ? "event" : "submission")} of {item.ObjectId} needs capability {capability}, "
            + $"and {peer.Name} {runs}. It goes back in the queue by itself once {peer.Name} has it.";
    }

    private IReadOnlySet<string> Advertised(string peerId) =>
        store.PeerProtocol(peerId) is { Refusal: null } known ? known.CapabilitySet : new HashSet<string>();

    private static string[] Needed(OutboxItem item)
    {
        if (item.Kind == OutboxKind.Submission)
        {
            var signed = SignedSubmission.Parser.ParseFrom(item.Body);
            return Both(SignatureAlgorithms.CapabilityNeeded(signed.Algorithm), Protocol.CapabilityNeeded(SubmissionPayload.Parser.ParseFrom(signed.Payload)));
        }
        return EventNeeds.GetValue(item.Body, static body => NeededBy(Envelope.Parser.ParseFrom(body)));
    }

    // What signed it (an Ed25519 key's events reach only peers that verify Ed25519) and what
    // it says, each on its own: a peer that verifies Ed25519 may still lack what a call-out
    // event says. Only call-out events need anything for what they say so far; the others
    // are not unpacked.
    private static string[] NeededBy(Envelope envelope) => Both(
        SignatureAlgorithms.CapabilityNeeded(envelope.Algorithm),
        envelope.ObjectKind == ObjectKind.CallOut ? Protocol.CapabilityNeeded(EventPayload.Parser.ParseFrom(envelope.Payload).Body ?? new EventBody()) : null);

    private static string[] Both(string? signature, string? content) => (signature, content) switch
    {
        (null, null) => [],
        (null, { } c) => [c],
        ({ } sig, null) => [sig],
        ({ } sig, { } c) => [sig, c],
    };
}
