using Federation.Contracts.V1;
using Google.Protobuf;

namespace Federation.Domain;

/// <summary>A fight's events applied to its state: checked at the origin and at every replica, so a forged or out-of-turn event is refused everywhere.</summary>
public static partial class Fights
{
    // ---- Apply: checked at the origin and at every replica ---------------------

    internal static FightState Apply(FightState? state, EventPayload e, EventBody body)
    {
        if (body.KindCase == EventBody.KindOneofCase.FightOpened)
        {
            return ApplyOpened(state, e, body.FightOpened);
        }
        var fight = state ?? throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence, $"{e.ObjectId} has not been opened.");
        switch (body.KindCase)
        {
            case EventBody.KindOneofCase.FightInvited:
                ApplyInvited(fight, e, body.FightInvited);
                break;
            case EventBody.KindOneofCase.InvitationAccepted:
                ApplyAccepted(fight, e, body.InvitationAccepted);
                break;
            case EventBody.KindOneofCase.InvitationDeclined:
                ApplyDeclined(fight, e, body.InvitationDeclined);
                break;
            case EventBody.KindOneofCase.FightStatusChanged:
                ApplyStatus(fight, e, body.FightStatusChanged);
                break;
            case EventBody.KindOneofCase.TermsAmended:
                ApplyAmended(fight, e, body.TermsAmended);
                break;
            case EventBody.KindOneofCase.TermsReaffirmed:
                ApplyReaffirmed(fight, e, body.TermsReaffirmed);
                break;
            case EventBody.KindOneofCase.AmendmentDeclined:
                ApplyAmendmentDeclined(fight, e, body.AmendmentDeclined);
                break;
            case EventBody.KindOneofCase.ReleaseRequested:
                ApplyReleaseRequested(fight, e, body.ReleaseRequested);
                break;
            case EventBody.KindOneofCase.ParticipantReleased:
                ApplyReleased(fight, e, body.ParticipantReleased);
                break;
            case EventBody.KindOneofCase.DemandDelivered:
                EventLog.RequireOrigin(e, Rules.OneVoice, "delivers the demand to the target");
                RequireNotEnded(fight, "deliver a demand");
                Text.Check("note", body.DemandDelivered.Note, Text.LongMax);
                fight.DemandDeliveredAt = e.OccurredAt;
                fight.DemandDeadline = body.DemandDelivered.Deadline;
                break;
            case EventBody.KindOneofCase.TargetCommunication:
                ApplyCommunication(fight, e, body.TargetCommunication);
                break;
            case EventBody.KindOneofCase.ActionPlanned:
            case EventBody.KindOneofCase.ActionUpdated:
            case EventBody.KindOneofCase.ActionCancelled:
            case EventBody.KindOneofCase.ActionReported:
                FightActions.Apply(fight, e, body);
                break;
            case EventBody.KindOneofCase.StandDownAcknowledged:
                ApplyStandDownAcknowledged(fight, e, body.StandDownAcknowledged);
                break;
            default:
                throw RuleViolation.Invalid($"A fight's log cannot hold a {body.KindCase} event.");
        }
        fight.LastSequence = e.Sequence;
        return fight;
    }

    private static FightState ApplyOpened(FightState? state, EventPayload e, FightOpened opened)
    {
        if (state is not null)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence, "This fight is already open.");
        }
        EventLog.RequireOrigin(e, Rules.OriginAuthority, "opens its fight");
        Text.Check("title", opened.Title, Text.ShortMax, required: true);
        CheckTarget(opened.Target);
        FightTerms terms;
        try
        {
            terms = FightTerms.Parser.ParseFrom(opened.Terms);
        }
        catch (InvalidProtocolBufferException)
        {
            throw RuleViolation.Invalid("The fight's frozen terms are not readable.");
        }
        if (Terms.Hash(opened.Terms.Span) != opened.TermsHash)
        {
            throw RuleViolation.Invalid("The fight's terms hash does not match its terms.");
        }
        Terms.CheckText(terms);
        Terms.RequireComplete(terms);
        return new FightState
        {
            Id = e.ObjectId,
            OriginNode = e.OriginNode,
            Title = opened.Title,
            Target = opened.Target ?? new Target(),
            Status = FightStatus.Open,
            Terms = terms,
            TermsBytes = opened.Terms,
            TermsHash = opened.TermsHash,
            LastSequence = e.Sequence,
            History = { new StatusChange { From = FightStatus.Draft, To = FightStatus.Open, At = e.OccurredAt } },
            Versions = { new TermsVersion { Hash = opened.TermsHash, Terms = terms, At = e.OccurredAt } },
        };
    }

    private static void ApplyInvited(FightState fight, EventPayload e, FightInvited invited)
    {
        EventLog.RequireOrigin(e, Rules.OriginAuthority, "invites networks to its fight");
        RequireNotEnded(fight, "invite anyone");
        if (!Identifiers.IsNodeId(invited.Network))
        {
            throw RuleViolation.Invalid($"'{Identifiers.Truncate(invited.Network)}' is not a node id.");
        }
        if (invited.Network == fight.OriginNode)
        {
            throw RuleViolation.Invalid("The initiating network cannot invite itself.");
        }
        if (invited.TermsHash != fight.TermsHash)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TermsFirst,
                $"Terms first: invitations name the current terms version {Terms.Short(fight.TermsHash)}.");
        }
        var existing = fight.Participants.FirstOrDefault(p => p.Network == invited.Network);
        // A network asked to reaffirm is still in: re-inviting it would drop its commitment
        // without a release.
        if (existing is not null && (existing.State == ParticipantState.Invited || IsIn(existing)))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt,
                $"Network {Identifiers.Fingerprint(invited.Network)} is already {(existing.State == ParticipantState.Invited ? "invited" : "committed")}.");
        }
        if (existing is null)
        {
            existing = new Participant { Network = invited.Network };
            fight.Participants.Add(existing);
        }
        existing.State = ParticipantState.Invited;
        existing.TermsHash = invited.TermsHash;
        existing.Reason = "";
        existing.Offer = "";
    }

    private static void ApplyAccepted(FightState fight, EventPayload e, InvitationAccepted accepted)
    {
        var p = RequireInvitee(fight, e, accepted.Network, "accept");
        if (accepted.TermsHash != fight.TermsHash)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt,
                $"Take it or leave it: the acceptance names terms {Terms.Short(accepted.TermsHash)}, but the current terms are {fight.TermsHash}. Read the current terms and accept those.");
        }
        p.State = ParticipantState.Committed;
        p.TermsHash = accepted.TermsHash;
    }

    private static void ApplyDeclined(FightState fight, EventPayload e, InvitationDeclined declined)
    {
        var p = RequireInvitee(fight, e, declined.Network, "decline");
        Text.Check("reason", declined.Reason, Text.LongMax);
        Text.Check("offer", declined.Offer, Text.LongMax);
        p.State = ParticipantState.Declined;
        p.LeftAt = e.OccurredAt;
        p.Reason = declined.Reason;
        p.Offer = declined.Offer;
    }

    private static Participant RequireInvitee(FightState fight, EventPayload e, string network, string verb)
    {
        if (e.ActorNode != network)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.TakeItOrLeaveIt,
                $"Take it or leave it: only the invited network itself can {verb} its invitation.");
        }
        RequireNotEnded(fight, $"{verb} an invitation");
        var p = fight.Participants.FirstOrDefault(x => x.Network == network);
        if (p is null)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.TakeItOrLeaveIt,
                $"Take it or leave it: network {Identifiers.Fingerprint(network)} has not been invited to this fight.");
        }
        if (IsIn(p))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.InUntilTheEnd,
                "In until the end: this network has already committed to the fight; it may ask the initiator to release it.");
        }
        if (p.State != ParticipantState.Invited)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt,
                p.State == ParticipantState.Released
                    ? "Take it or leave it: this network was released from the fight; the initiator may invite it again."
                    : "Take it or leave it: this network has already declined; the initiator may invite it again.");
        }
        return p;
    }

    private static void ApplyStatus(FightState fight, EventPayload e, FightStatusChanged change)
    {
        EventLog.RequireOrigin(e, Rules.SharedOutcome, "changes the fight's status");
        if (change.From != fight.Status)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SharedOutcome,
                $"The fight is {Describe(fight.Status)}, not {Describe(change.From)}.");
        }
        if (!CanMove(fight.Status, change.To))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SharedOutcome,
                $"A fight that is {Describe(fight.Status)} cannot become {Describe(change.To)}.");
        }
        Text.Check("note", change.Note, Text.LongMax);
        fight.Status = change.To;
        if (IsEnded(change.To))
        {
            // Stand-down: every network still in must acknowledge the end.
            foreach (var p in fight.Participants.Where(IsIn))
            {
                p.StandDownPending = true;
            }
        }
        fight.History.Add(new StatusChange { From = change.From, To = change.To, Note = change.Note, At = e.OccurredAt });
    }

    /// <summary>A network that is in the fight: committed, or committed and asked to reaffirm amended terms.</summary>
    public static bool IsIn(Participant p) => p.State is ParticipantState.Committed or ParticipantState.AwaitingReaffirmation;

    private static void ApplyAmended(FightState fight, EventPayload e, TermsAmended amended)
    {
        EventLog.RequireOrigin(e, Rules.TermsFirst, "amends the fight's terms");
        RequireNotEnded(fight, "amend the terms");
        FightTerms terms;
        try
        {
            terms = FightTerms.Parser.ParseFrom(amended.Terms);
        }
        catch (InvalidProtocolBufferException)
        {
            throw RuleViolation.Invalid("The amended terms are not readable.");
        }
        if (Terms.Hash(amended.Terms.Span) != amended.TermsHash)
        {
            throw RuleViolation.Invalid("The amended terms' hash does not match the terms.");
        }
        Terms.CheckText(terms);
        Terms.RequireComplete(terms);
        Text.Check("note", amended.Note, Text.LongMax);
        // Compare the terms, not only the hash: the same terms serialised differently would
        // otherwise ask every committed network to reaffirm nothing.
        if (amended.TermsHash == fight.TermsHash || Terms.Diff(fight.Terms, terms).Count == 0)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TermsFirst, "These are already the current terms; nothing to amend.");
        }
        var diff = Terms.Diff(fight.Terms, terms);
        foreach (var p in fight.Participants)
        {
            // Changing the terms re-opens consent: committed networks must reaffirm or are
            // released; an open invitation now offers the new version.
            if (p.State == ParticipantState.Committed)
            {
                p.State = ParticipantState.AwaitingReaffirmation;
            }
            else if (p.State == ParticipantState.Invited)
            {
                p.TermsHash = amended.TermsHash;
            }
        }
        fight.Terms = terms;
        fight.TermsBytes = amended.Terms;
        fight.TermsHash = amended.TermsHash;
        fight.Versions.Add(new TermsVersion { Hash = amended.TermsHash, Terms = terms, At = e.OccurredAt, Note = amended.Note });
        fight.AmendmentDiff.Clear();
        fight.AmendmentDiff.AddRange(diff);
    }

    private static void ApplyReaffirmed(FightState fight, EventPayload e, TermsReaffirmed reaffirmed)
    {
        var p = RequireSelf(fight, e, reaffirmed.Network, Rules.TermsFirst, "reaffirm");
        RequireNotEnded(fight, "reaffirm the terms");
        if (p.State != ParticipantState.AwaitingReaffirmation)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TermsFirst,
                "This network has not been asked to reaffirm: it is not committed to an earlier version of the terms.");
        }
        if (reaffirmed.TermsHash != fight.TermsHash)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt,
                $"Take it or leave it: the reaffirmation names terms {Terms.Short(reaffirmed.TermsHash)}, but the current terms are {fight.TermsHash}. Read the current terms and reaffirm those.");
        }
        p.State = ParticipantState.Committed;
        p.TermsHash = reaffirmed.TermsHash;
    }

    private static void ApplyAmendmentDeclined(FightState fight, EventPayload e, AmendmentDeclined declined)
    {
        var p = RequireSelf(fight, e, declined.Network, Rules.TermsFirst, "decline amended terms");
        RequireNotEnded(fight, "decline amended terms");
        if (p.State != ParticipantState.AwaitingReaffirmation)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.InUntilTheEnd,
                "In until the end: only a network asked to reaffirm amended terms can decline them; otherwise ask the initiator for release.");
        }
        Text.Check("reason", declined.Reason, Text.LongMax);
        p.State = ParticipantState.Released;
        p.LeftAt = e.OccurredAt;
        p.ReleaseReason = declined.Reason;
        p.ReleaseRequested = false;
    }

    private static void ApplyReleaseRequested(FightState fight, EventPayload e, ReleaseRequested requested)
    {
        var p = RequireSelf(fight, e, requested.Network, Rules.InUntilTheEnd, "ask for release");
        RequireNotEnded(fight, "ask for release");
        if (!IsIn(p))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, "Only a committed network can ask to be released.");
        }
        if (p.ReleaseRequested)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, "This network has already asked to be released; the initiator decides.");
        }
        Text.Check("reason", requested.Reason, Text.LongMax, required: true);
        p.ReleaseRequested = true;
        p.ReleaseReason = requested.Reason;
    }

    private static void ApplyReleased(FightState fight, EventPayload e, ParticipantReleased released)
    {
        EventLog.RequireOrigin(e, Rules.InUntilTheEnd, "releases a network from the fight");
        RequireNotEnded(fight, "release anyone");
        var p = fight.Participants.FirstOrDefault(x => x.Network == released.Network);
        if (p is null || !IsIn(p))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.InUntilTheEnd,
                $"Network {Identifiers.Fingerprint(released.Network)} is not committed to this fight.");
        }
        Text.Check("reason", released.Reason, Text.LongMax);
        p.State = ParticipantState.Released;
        p.LeftAt = e.OccurredAt;
        p.ReleaseRequested = false;
        if (released.Reason.Length > 0)
        {
            p.ReleaseReason = released.Reason;
        }
    }

    private static void ApplyCommunication(FightState fight, EventPayload e, TargetCommunication c)
    {
        if (e.ActorNode != e.OriginNode)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.OneVoice,
                "One voice: only the initiating network speaks with the target. If the target contacted you, file a referral.");
        }
        if (c.Kind == CommunicationKind.Unspecified || !Enum.IsDefined(c.Kind))
        {
            throw RuleViolation.Invalid("Say what kind of communication this is: reply, negotiation, settlement offer or other.");
        }
        Text.Check("summary", c.Summary, Text.LongMax, required: true);
        fight.Communications.Add(new Communication { Kind = c.Kind, Summary = c.Summary, At = e.OccurredAt });
    }

    private static void ApplyStandDownAcknowledged(FightState fight, EventPayload e, StandDownAcknowledged ack)
    {
        var p = RequireSelf(fight, e, ack.Network, Rules.SharedOutcome, "acknowledge the stand-down");
        if (!p.StandDownPending)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SharedOutcome,
                IsEnded(fight.Status) ? "This network has no stand-down to acknowledge." : "The fight has not ended; there is no stand-down yet.");
        }
        p.StandDownPending = false;
        p.StandDownAcknowledgedAt = e.OccurredAt;
    }

    /// <summary>The participant record of a network acting for itself; refuses anyone acting for another.</summary>
    internal static Participant RequireSelf(FightState fight, EventPayload e, string network, string rule, string verb)
    {
        if (e.ActorNode != network)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, rule, $"{EventLog.Capitalise(rule)}: only a network itself can {verb}.");
        }
        return fight.Participants.FirstOrDefault(x => x.Network == network)
            ?? throw new RuleViolation(RefusalKind.PermissionDenied, rule, $"Network {Identifiers.Fingerprint(network)} has no part in this fight.");
    }
}
