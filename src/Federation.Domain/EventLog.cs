using Federation.Contracts.V1;
using Google.Protobuf;

namespace Federation.Domain;

/// <summary>
/// Folds an object's signed events into its state. The same code runs at the origin
/// before it appends and at every replica when it receives, so a replica refuses
/// anything the origin itself would have refused: a forged or illegal event does not
/// become state anywhere.
/// </summary>
public static class EventLog
{
    /// <summary>
    /// Checks that <paramref name="signer"/> may write events for <paramref name="objectId"/>:
    /// only the object's origin, which is named in the id.
    /// </summary>
    public static void CheckSigner(string objectId, string signer)
    {
        var origin = Identifiers.OriginOf(objectId);
        if (origin != signer)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.OriginAuthority,
                $"Origin authority: only the origin node {Identifiers.Fingerprint(origin)} writes events for {objectId}; this one is signed by {Identifiers.Fingerprint(signer)}.");
        }
    }

    /// <summary>
    /// Applies one event to the current state (null before the first event) and returns
    /// the new state, or throws a <see cref="RuleViolation"/> and leaves <paramref name="state"/> untouched.
    /// </summary>
    public static IMessage Apply(IMessage? state, EventPayload e) => Fold(state, e, copy: true);

    /// <summary>
    /// Applies one event onto <paramref name="state"/> itself, without a copy, and returns the
    /// new state. A refusal may leave <paramref name="state"/> half changed: only for a caller
    /// that throws it away then, as a replica's transaction does when it rolls back. A
    /// call-out's state keeps every revision, so a copy per event made a long log's replay
    /// cost grow with the square of its length (issue 20 #2).
    /// </summary>
    public static IMessage ApplyOnto(IMessage? state, EventPayload e) => Fold(state, e, copy: false);

    /// <summary>
    /// The event as its origin signs and sends it, once it has applied it: the same, but for
    /// what only the origin keeps (a call-out's recipients named by a digest, docs/adr/0030).
    /// </summary>
    public static EventPayload AsSigned(EventPayload e) =>
        e.Body?.KindCase == EventBody.KindOneofCase.CallOutPublished ? CallOuts.AsSigned(e) : e;

    /// <summary>
    /// The origin's state of an object as every other holder folds it from the signed events:
    /// the same, but for what only the origin keeps (<see cref="AsSigned"/>).
    /// </summary>
    public static IMessage AsOthersHoldIt(IMessage state) => state is CallOutState c ? CallOuts.AsOthersHoldIt(c) : state;

    private static IMessage Fold(IMessage? state, EventPayload e, bool copy)
    {
        CheckSigner(e.ObjectId, e.OriginNode);
        if (!Identifiers.IsNodeId(e.ActorNode))
        {
            throw RuleViolation.Invalid("The event names no valid actor node.");
        }
        if (!Guid.TryParse(e.EventId, out _))
        {
            throw RuleViolation.Invalid("The event id is not a UUID.");
        }
        if (e.OccurredAt is null)
        {
            throw RuleViolation.Invalid("The event has no time.");
        }
        var body = e.Body ?? throw RuleViolation.Invalid("The event has no body.");
        // Every date in the event, at the origin before it signs and at every replica before
        // it applies: an impossible one is refused here, never stored (issue 15 #19).
        Dates.CheckAll(e);
        return e.ObjectKind switch
        {
            ObjectKind.Fight => Fights.Apply(CheckState<FightState>(state, e, s => s.LastSequence, copy), e, body),
            ObjectKind.CallOut => CallOuts.Apply(CheckState<CallOutState>(state, e, s => s.LastSequence, copy), e, body),
            ObjectKind.Briefings => Briefings.Apply(CheckState<BriefingsState>(state, e, s => s.LastSequence, copy), e, body),
            _ => throw RuleViolation.Invalid($"Unknown object kind {e.ObjectKind}."),
        };
    }

    private static T? CheckState<T>(IMessage? state, EventPayload e, Func<T, ulong> lastSequence, bool copy) where T : class, IMessage<T>
    {
        if (state is not null and not T)
        {
            throw RuleViolation.Invalid($"{e.ObjectId} is not a {e.ObjectKind}.");
        }
        var typed = (T?)state;
        var last = typed is null ? 0 : lastSequence(typed);
        if (e.Sequence != last + 1)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence,
                $"Event {e.Sequence} of {e.ObjectId} does not follow {last}.");
        }
        // Fold onto a copy so a refusal halfway through leaves the caller's state as it was.
        return copy ? typed?.Clone() : typed;
    }

    internal static void RequireOrigin(EventPayload e, string rule, string what)
    {
        if (e.ActorNode != e.OriginNode)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, rule, $"{Capitalise(rule)}: only the initiating network {what}.");
        }
    }

    public static string Capitalise(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}

/// <summary>Who receives an object's events.</summary>
public static class Audience
{
    /// <summary>
    /// A call-out goes to its recipients; a fight to the networks invited to it or
    /// committed to it (including those asked to reaffirm amended terms). A draft goes nowhere: it is local until its terms are frozen.
    /// </summary>
    public static IReadOnlyCollection<string> Of(IMessage? state) => state switch
    {
        CallOutState c => c.Recipients,
        BriefingsState b => b.Members,
        FightState { Status: FightStatus.Draft } => [],
        FightState f => f.Participants
            .Where(p => p.State is ParticipantState.Invited or ParticipantState.Committed or ParticipantState.AwaitingReaffirmation)
            .Select(p => p.Network).ToArray(),
        _ => [],
    };
}
