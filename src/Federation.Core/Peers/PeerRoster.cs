using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Core.Peers;

/// <summary>A peer's state: <c>pending</c> until the other side has added this node too, then <c>active</c>; an operator can suspend or revoke it.</summary>
public static class PeerStates
{
    public const string Pending = "pending";
    public const string Active = "active";
    public const string Suspended = "suspended";
    public const string Revoked = "revoked";

    /// <summary>Peers this node talks to: pending ones too, so peering completes as soon as the other side adds us.</summary>
    public static bool Reachable(string state) => state is Pending or Active;
}

/// <summary>The peers this node talks to, as the commands that address networks need them.</summary>
public sealed class PeerRoster(IPeerReads store)
{
    /// <summary>Refuses unless every id names a peer this node talks to; says which is not.</summary>
    public void RequirePeers(IEnumerable<string> nodeIds)
    {
        foreach (var id in nodeIds)
        {
            // One by one: a store that holds the roster in memory reads it again for a peer it
            // does not hold, so a peer just added at another replica is found here.
            var p = store.GetPeer(id);
            if (p is null || !PeerStates.Reachable(p.State))
            {
                throw new RuleViolation(RefusalKind.FailedPrecondition, "explicit peering",
                    p is null
                        ? $"{Identifiers.Fingerprint(id)} is not a peer of this node. Add it first (address and fingerprint)."
                        : $"{Identifiers.Fingerprint(id)} is {p.State}; nothing is sent to it.");
            }
        }
    }

    /// <summary>
    /// A warning for each of <paramref name="nodeIds"/> that has not added this node back
    /// (still <c>pending</c>): what is sent to it waits, and turns into a dead letter if it
    /// refuses, until its operator adds this node. Said at once, so nobody waits for an answer
    /// that cannot come.
    /// </summary>
    public IReadOnlyList<string> NotPeeredBack(IEnumerable<string> nodeIds)
    {
        var pending = store.ListPeers().Where(p => p.State == PeerStates.Pending).ToDictionary(p => p.NodeId);
        return nodeIds.Distinct().Where(pending.ContainsKey).Select(id =>
            $"{pending[id].Name} ({Identifiers.Fingerprint(id)}) has not added this node yet: it will not receive this until its operator adds this node (address and fingerprint).")
            .ToList();
    }

    /// <summary>Whether every one of <paramref name="nodeIds"/> said it has <paramref name="capability"/>.</summary>
    public bool AllHave(IEnumerable<string> nodeIds, string capability) => nodeIds.All(id => store.PeerHas(id, capability));

    public IReadOnlyList<string> ActivePeerIds() => store.ListPeers().Where(p => PeerStates.Reachable(p.State)).Select(p => p.NodeId).ToList();
}
