namespace Federation.Domain;

/// <summary>Why a rule refused something; the node maps each to a gRPC status.</summary>
public enum RefusalKind
{
    /// <summary>The input itself is malformed or incomplete.</summary>
    InvalidArgument,
    /// <summary>The input is well formed but the object's state does not allow it.</summary>
    FailedPrecondition,
    /// <summary>The actor is not the one the rule allows.</summary>
    PermissionDenied,
    /// <summary>The object does not exist here.</summary>
    NotFound,
    /// <summary>A signature or proof of who sent something does not hold.</summary>
    Unauthenticated,
}

/// <summary>
/// A rule said no. <see cref="Rule"/> names the rule so a person reading the error
/// knows which principle they ran into, not just that something failed.
/// </summary>
public sealed class RuleViolation(RefusalKind kind, string rule, string message) : Exception(message)
{
    public RefusalKind Kind { get; } = kind;
    public string Rule { get; } = rule;

    public static RuleViolation Invalid(string message) => new(RefusalKind.InvalidArgument, "valid input", message);
    public static RuleViolation NotFound(string message) => new(RefusalKind.NotFound, "known object", message);

    /// <summary>
    /// The one answer for a confidential part of an object that this node does not hold or
    /// the caller may not see: a different answer would tell which fights exist here and
    /// which of them this node takes part in.
    /// </summary>
    public static RuleViolation NotShown(string what, string objectId) => NotFound($"No {what} of {objectId} here.");
}

/// <summary>The names of the rules, as users see them in refusals.</summary>
public static class Rules
{
    public const string OriginAuthority = "origin authority";
    public const string Sequence = "sequence order";
    public const string TermsFirst = "terms first";
    public const string TakeItOrLeaveIt = "take it or leave it";
    public const string InUntilTheEnd = "in until the end";
    public const string OneVoice = "one voice";
    public const string SharedOutcome = "shared outcome";
    public const string Autonomy = "autonomy of action";
    public const string Recipients = "call-out recipients";
    public const string CallOutOpen = "call-out open";
    public const string Expiry = "call-out expiry";
    /// <summary>A node's copy of an object comes only from the object's origin, never back to it.</summary>
    public const string OwnLog = "own log";
    /// <summary>What makes an envelope acceptable at all: readable, signed by a pinned peer, its header matching its payload.</summary>
    public const string SignedEnvelope = "signed envelope";
    /// <summary>
    /// A refusal caused only by clocks disagreeing. It ends when a clock is put right, so
    /// a sender retries it rather than giving up on what it sent.
    /// </summary>
    public const string ClockSkew = "clock skew";
    /// <summary>
    /// Two nodes speak different major versions of the protocol. It ends when one of them
    /// upgrades, so a sender keeps what it would send queued rather than giving up on it.
    /// </summary>
    public const string ProtocolVersion = "protocol version";
    /// <summary>Confidential details rest on disk sealed; reading them needs the node unlocked (issue 24).</summary>
    public const string SealedAtRest = "sealed at rest";
    /// <summary>
    /// An event that carries a network's signed submission must record exactly what that
    /// network signed: otherwise the origin would be putting words in its mouth.
    /// </summary>
    public const string SignedCommitment = "signed commitment";
}
