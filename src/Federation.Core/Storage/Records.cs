using Federation.Contracts.V1;

namespace Federation.Core.Storage;

public sealed record PeerRecord(string NodeId, string Name, string Address, byte[] PublicKey, string State, DateTimeOffset AddedAt);

public sealed record StoredObject(string ObjectId, ObjectKind Kind, string Origin, ulong LastSequence, byte[] State);

/// <summary>An event as stored: the origin's signed bytes, never re-serialised.</summary>
/// <summary>A stored confidential value by its key (an object id, or a report's id).</summary>
public sealed record StoredValue(string Key, byte[] Value);

/// <param name="Signer">The serialised CertifiedKey of the node key that signed, or null when the network key did (docs/adr/0022).</param>
public sealed record StoredEvent(string ObjectId, ObjectKind Kind, ulong Sequence, string EventId, byte[] Payload, byte[] Signature, byte[]? Signer = null);

/// <summary>An event taken out of a log because the key that signed it was revoked from before it (issue 16 #3).</summary>
public sealed record QuarantinedEvent(string ObjectId, ulong Sequence, string EventId, string Reason, DateTimeOffset At);

public enum OutboxKind
{
    Event = 1,
    Submission = 2,
}

/// <param name="AtRest">The body as it rests, when <paramref name="Body"/> was opened to be sent (issue 24): what a dead letter keeps.</param>
public sealed record OutboxItem(long Id, string PeerId, OutboxKind Kind, string ObjectId, ulong Sequence, byte[] Body, byte[]? AtRest = null);

/// <summary>A submission waiting to be sent (in the outbox) or parked (in the dead letters), with its body as stored.</summary>
public sealed record WaitingSubmission(bool DeadLetter, long Id, string ObjectId, byte[] Body);

/// <summary>How delivery to one peer stands: its cursor, how far behind it is, and its failure streak.</summary>
public sealed record PeerDeliveryState(
    string PeerId,
    long DeliveredId,
    long Pending,
    DateTimeOffset? OldestPendingAt,
    int Attempts,
    DateTimeOffset? FailingSince,
    string? LastError,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset? LastDeliveredAt);

/// <summary>How pulling from one peer (catch-up) stands.</summary>
public sealed record PeerCatchUpState(string PeerId, DateTimeOffset? CaughtUpAt, DateTimeOffset? FailingSince, string? LastError);

public sealed record DeadLetter(long Id, string PeerId, OutboxKind Kind, string ObjectId, ulong Sequence, string Status, string Error, DateTimeOffset ParkedAt)
{
    /// <summary>
    /// The status of an item set aside, not refused: it waits for its peer to have a
    /// capability ("WAITING_FOR responses.withheld") and goes back in the queue once it has.
    /// </summary>
    public const string WaitingPrefix = "WAITING_FOR ";

    /// <summary>The capability this item waits for, or null for an item the peer refused.</summary>
    public string? WaitsFor => Status.StartsWith(WaitingPrefix, StringComparison.Ordinal) ? Status[WaitingPrefix.Length..] : null;
}

/// <summary>A peer's dead letters: those it refused, and those waiting for it to upgrade.</summary>
public readonly record struct DeadLetterCount(long Refused, long Waiting);

public enum Role
{
    /// <summary>Answers call-outs, accepts invitations, reports actions.</summary>
    Delegate = 1,
    /// <summary>Also starts fights and call-outs and speaks for the fight.</summary>
    Organiser = 2,
    /// <summary>Also manages peers, keys, tokens and dead letters.</summary>
    Operator = 3,
}

/// <param name="SessionsAfter">Dashboard sessions signed in at or before this time are over ("sign out everywhere").</param>
public sealed record TokenRecord(string Id, string Name, Role Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, DateTimeOffset? SessionsAfter = null);

public sealed record AuditEntry(long Id, DateTimeOffset At, string Who, string Role, string Action, string? ObjectId, string Outcome);

// ---- Call-outs: regions, the feed, notifications ------------------------------------

/// <summary>A peer's region, as it said when it was added.</summary>
public sealed record PeerRegion(string NodeId, string Region);

/// <summary>
/// What a peer last said it speaks (protocol version, release, capabilities as one
/// space-separated string) and when; <see cref="Refusal"/> says why the two nodes cannot
/// talk (another major version), or is null when they can.
/// </summary>
public sealed record PeerProtocolRecord(string NodeId, string Protocol, string Software, string Capabilities, DateTimeOffset SeenAt, string? Refusal)
{
    /// <summary>The capabilities it advertised, one name each.</summary>
    public IReadOnlySet<string> CapabilitySet => Capabilities.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>A release before the exchange (0.1.0): calls to and from it are signed the old way.</summary>
    public bool IsBeforeExchange => Domain.Protocol.IsBeforeExchange(Protocol, CapabilitySet);
}

/// <summary>
/// One call-out, fight or briefings event in the order this node stored it (the trigger-filled
/// feed), or a referral or incident filed with this node as initiator: then <paramref name="Report"/>
/// holds the stored FightReport, <paramref name="Payload"/> is empty and <paramref name="ObjectId"/> is the fight;
/// or a reminder (issue 17 #3): then <paramref name="Reminder"/> holds the InboxItem it tells.
/// </summary>
/// <remarks><see cref="ReportNetwork"/> is who filed a report, kept beside its sealed bytes, so a locked node still tells that one came.</remarks>
public sealed record FeedEntry(long Position, string ObjectId, ulong Sequence, byte[] Payload, byte[]? Report = null, byte[]? Reminder = null, string? ReportNetwork = null);

/// <summary>How far in the feed a token last looked at "what's new", and when (issue 17 #2).</summary>
public sealed record NewsSeenRecord(long Position, DateTimeOffset At);

/// <summary>
/// Where notifications go: a webhook URL with its signing secret, or an e-mail address;
/// <paramref name="Kinds"/> names the kinds of notification it is sent, comma-separated (empty: every kind).
/// </summary>
public sealed record ChannelRecord(string Id, string Kind, string Target, string? Secret, bool Active, DateTimeOffset CreatedAt, string Kinds = "")
{
    public IReadOnlyList<string> KindList => Kinds.Split(',', StringSplitOptions.RemoveEmptyEntries);
}

public static class DeliveryStates
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

/// <summary>One notification on its way to one channel, with its retry timing.</summary>
public sealed record DeliveryRecord(
    long Id,
    string ChannelId,
    long Cursor,
    string ObjectId,
    int Change,
    byte[] Body,
    string State,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DeliveredAt);
