using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace Federation.Core.Delivery;

/// <summary>
/// What peers refused for good, for an operator to see and, once the cause is fixed
/// (the peer has added this node, a clock is corrected…), replay.
/// </summary>
public sealed class DeadLetters(IFederationStore store, OutboxSignal signal, ILogger<DeadLetters> log)
{
    public IReadOnlyList<DeadLetterInfo> List(string peer)
    {
        var peerId = peer.Length == 0 ? null : PeerId(peer);
        var names = store.ListPeers().ToDictionary(p => p.NodeId, p => p.Name);
        return store.ListDeadLetters(peerId).Select(d => new DeadLetterInfo
        {
            Id = d.Id,
            PeerNodeId = d.PeerId,
            PeerName = names.GetValueOrDefault(d.PeerId, ""),
            Kind = d.Kind == OutboxKind.Event ? "event" : "submission",
            ObjectId = d.ObjectId,
            Title = store.Title(d.ObjectId),
            Sequence = d.Sequence,
            Status = d.Status,
            Error = d.Error,
            ParkedAt = Timestamp.FromDateTimeOffset(d.ParkedAt),
        }).ToList();
    }

    /// <summary>Moves one dead letter, or all of one peer's, back to the end of that peer's queue.</summary>
    public async Task<int> ReplayAsync(long id, string peer, CancellationToken ct)
    {
        if ((id != 0) == (peer.Length != 0))
        {
            throw RuleViolation.Invalid("Name one dead letter by its id, or a peer to replay all of its dead letters, not both.");
        }
        var ids = id != 0
            ? [id]
            : store.ListDeadLetters(PeerId(peer)).Select(d => d.Id).ToList();
        if (ids.Count == 0)
        {
            throw RuleViolation.NotFound($"There are no dead letters for {peer}. 'solnet deadletters' lists them.");
        }
        var replayed = await store.WriteAsync(tx => tx.ReplayDeadLetters(ids), ct);
        if (replayed == 0)
        {
            throw RuleViolation.NotFound($"There is no dead letter {id}; it may have been replayed already. 'solnet deadletters' lists them.");
        }
        log.LogInformation("Replaying {Count} dead letter(s) at the operator's request", replayed);
        signal.Poke();
        return replayed;
    }

    private string PeerId(string peer)
    {
        var id = Identifiers.NodeIdFromFingerprint(peer);
        return store.GetPeer(id) is null
            ? throw RuleViolation.NotFound($"{Identifiers.Fingerprint(id)} is not a peer of this node.")
            : id;
    }
}
