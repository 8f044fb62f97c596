using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>
/// "What's new" for the people who started a call-out or a fight (issue 17 #2): which of the
/// things this node is told count as news to its organisers and issuers, and what still
/// waits for this network's own answer. Pure decisions over items and states; where "last
/// looked" is kept and read is the node's business (adr/0018).
/// </summary>
public static class News
{
    /// <summary>The changes that are others' answers to what this node started.</summary>
    public static readonly IReadOnlySet<InboxChange> Changes = new HashSet<InboxChange>
    {
        InboxChange.Responded, InboxChange.Accepted, InboxChange.Declined, InboxChange.ReleaseRequested,
        InboxChange.StandDownAcknowledged, InboxChange.ReportFiled, InboxChange.ActionReported,
    };

    /// <summary>
    /// Whether an item the feed tells this node is news about something it started: another
    /// network's response to its own call-out (a recipient is also told of others' responses,
    /// which are not its news), or another network's answer in a fight it initiated (those
    /// notices are given to the initiator only, <see cref="FightNotices"/>).
    /// </summary>
    public static bool Counts(InboxItem item, string self) =>
        !item.OwnAction && Changes.Contains(item.Change)
        && (item.Change != InboxChange.Responded || item.CallOut?.OriginNode == self);

    /// <summary>
    /// Whether a call-out sent to this network still waits for its answer: someone else's,
    /// open, not past its expiry, and not yet answered by this network (pledge, decline or report).
    /// </summary>
    public static bool AwaitsAnswer(CallOutState callOut, string self, DateTimeOffset now) =>
        callOut.OriginNode != self && !callOut.Closed && !callOut.Cancelled && !callOut.Expired && !callOut.Purged
        && !CallOuts.IsPastExpiry(callOut, now)
        && callOut.Responses.All(r => r.Network != self);
}
