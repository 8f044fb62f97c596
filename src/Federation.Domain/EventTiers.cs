using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>Who may hold an event's fields (issue 15 #2). Local details and reports are never events, so they have no tier here.</summary>
public enum EventTier
{
    /// <summary>Everyone in the object's audience: every invited, committed, declined or released network of a fight.</summary>
    Public,
    /// <summary>The committed networks only: the fight's participants-only (briefings) log.</summary>
    ParticipantsOnly,
    /// <summary>An action event: its plan's visibility decides, and everything after the plan follows it.</summary>
    ByPlanVisibility,
    /// <summary>A call-out's own log, held by the issuer and the call-out's recipients.</summary>
    CallOutRecipients,
}

/// <summary>
/// The tier of every kind of event, written once: routing reads it to choose the log, the
/// docs list it, and a test fails when a new kind of event is added without one.
/// </summary>
public static class EventTiers
{
    public static readonly IReadOnlyDictionary<EventBody.KindOneofCase, EventTier> Table = new Dictionary<EventBody.KindOneofCase, EventTier>
    {
        [EventBody.KindOneofCase.CallOutPublished] = EventTier.CallOutRecipients,
        [EventBody.KindOneofCase.CallOutResponded] = EventTier.CallOutRecipients,
        [EventBody.KindOneofCase.CallOutClosed] = EventTier.CallOutRecipients,
        [EventBody.KindOneofCase.CallOutUpdated] = EventTier.CallOutRecipients,
        [EventBody.KindOneofCase.FightOpened] = EventTier.Public,
        [EventBody.KindOneofCase.FightInvited] = EventTier.Public,
        [EventBody.KindOneofCase.InvitationAccepted] = EventTier.Public,
        [EventBody.KindOneofCase.InvitationDeclined] = EventTier.Public,
        [EventBody.KindOneofCase.FightStatusChanged] = EventTier.Public,
        [EventBody.KindOneofCase.TermsAmended] = EventTier.Public,
        [EventBody.KindOneofCase.TermsReaffirmed] = EventTier.Public,
        [EventBody.KindOneofCase.AmendmentDeclined] = EventTier.Public,
        [EventBody.KindOneofCase.ReleaseRequested] = EventTier.Public,
        [EventBody.KindOneofCase.ParticipantReleased] = EventTier.Public,
        [EventBody.KindOneofCase.DemandDelivered] = EventTier.Public,
        [EventBody.KindOneofCase.TargetCommunication] = EventTier.Public,
        [EventBody.KindOneofCase.StandDownAcknowledged] = EventTier.Public,
        [EventBody.KindOneofCase.ActionPlanned] = EventTier.ByPlanVisibility,
        [EventBody.KindOneofCase.ActionUpdated] = EventTier.ByPlanVisibility,
        [EventBody.KindOneofCase.ActionCancelled] = EventTier.ByPlanVisibility,
        [EventBody.KindOneofCase.ActionReported] = EventTier.ByPlanVisibility,
        [EventBody.KindOneofCase.BriefingsOpened] = EventTier.ParticipantsOnly,
        [EventBody.KindOneofCase.BriefingMembersChanged] = EventTier.ParticipantsOnly,
        [EventBody.KindOneofCase.BriefingPosted] = EventTier.ParticipantsOnly,
    };

    /// <summary>
    /// Whether an object's log and state rest sealed to the node's storage key (issue 24,
    /// docs/adr/0025). Routing puts every <see cref="EventTier.ParticipantsOnly"/> event, and
    /// every <see cref="EventTier.ByPlanVisibility"/> event of a plan that is not public, in the
    /// fight's participants-only log (<see cref="ObjectKind.Briefings"/>), and nothing else
    /// there: so sealing that log whole follows this table, with no second list. The shared
    /// log and call-out logs go to every network of their audience and stay in clear.
    /// </summary>
    public static bool SealedAtRest(ObjectKind kind) => kind == ObjectKind.Briefings;

    /// <summary>
    /// Whether a submission rests sealed while it waits in its sender's outbox and dead letters
    /// (issue 24): what it carries is for the object's origin alone (a referral or incident, a
    /// report-back not shared with the recipients) or for the committed networks alone (an
    /// action that belongs in the participants-only log, by the same rule that routes its event,
    /// read from <paramref name="participants"/>, the sender's copy of that log, a skeleton being enough).
    /// Everything else goes to the whole audience, and waits in clear so a locked node sends it.
    /// </summary>
    public static bool SealedAtRest(SubmissionPayload submission, BriefingsState? participants) => submission.KindCase switch
    {
        SubmissionPayload.KindOneofCase.FileReport => true,
        SubmissionPayload.KindOneofCase.CallOutResponse => CallOuts.IssuerOnly(submission.CallOutResponse) is not null,
        SubmissionPayload.KindOneofCase.PlanAction or SubmissionPayload.KindOneofCase.UpdateAction
            or SubmissionPayload.KindOneofCase.CancelAction or SubmissionPayload.KindOneofCase.ReportAction =>
            FightActions.BelongsToParticipants(Fights.FromSubmission(submission), participants),
        _ => false,
    };

    /// <summary>The tier of a kind of event; a kind without one is refused rather than guessed public.</summary>
    public static EventTier Of(EventBody.KindOneofCase kind) =>
        Table.TryGetValue(kind, out var tier) ? tier : throw RuleViolation.Invalid($"An event of kind {kind} has no confidentiality tier; it cannot be routed.");
}
