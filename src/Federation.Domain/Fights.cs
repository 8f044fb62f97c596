using Federation.Contracts.V1;
using Google.Protobuf;

namespace Federation.Domain;

/// <summary>The joint-fight rules (DESIGN.md §2): what the initiator may record, and what others may ask it to.</summary>
public static class Fights
{
    public static bool IsEnded(FightStatus s) =>
        s is FightStatus.Won or FightStatus.Settled or FightStatus.Lost or FightStatus.CalledOff;

    // ---- Drafts: local to the origin, never federated --------------------------

    public static FightState Draft(string fightId, string origin, string title, Target? target, FightTerms? terms)
    {
        Text.Check("title", title, Text.ShortMax, required: true);
        CheckTarget(target);
        var draft = new FightState
        {
            Id = fightId,
            OriginNode = origin,
            Title = title,
            Target = target ?? new Target(),
            Status = FightStatus.Draft,
            Terms = terms ?? new FightTerms(),
        };
        Terms.CheckText(draft.Terms);
        return draft;
    }

    public static FightState UpdateDraftTerms(FightState draft, FightTerms terms)
    {
        if (draft.Status != FightStatus.Draft)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TermsFirst,
                "Terms first: this fight's terms are frozen; amending offered terms re-opens consent and is a separate step.");
        }
        Terms.CheckText(terms);
        var next = draft.Clone();
        next.Terms = terms;
        return next;
    }

    // ---- Commands at the origin: each returns the event body to append ----------

    public static EventBody Open(FightState draft)
    {
        if (draft.Status != FightStatus.Draft)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TermsFirst, "This fight is already open.");
        }
        Terms.RequireComplete(draft.Terms);
        var (bytes, hash) = Terms.Freeze(draft.Terms);
        return new EventBody
        {
            FightOpened = new FightOpened { Title = draft.Title, Target = draft.Target, Terms = bytes, TermsHash = hash },
        };
    }

    public static EventBody Invite(FightState fight, string network) => new()
    {
        FightInvited = new FightInvited { Network = network, TermsHash = fight.TermsHash },
    };

    public static EventBody ChangeStatus(FightState fight, FightStatus to, string note)
    {
        Text.Check("note", note, Text.LongMax);
        return new EventBody { FightStatusChanged = new FightStatusChanged { From = fight.Status, To = to, Note = note ?? "" } };
    }

    public static EventBody Amend(FightState fight, FightTerms terms, string note)
    {
        Terms.CheckText(terms);
        Text.Check("note", note, Text.LongMax);
        Terms.RequireComplete(terms);
        var (bytes, hash) = Terms.Freeze(terms);
        return new EventBody { TermsAmended = new TermsAmended { Terms = bytes, TermsHash = hash, Note = note ?? "" } };
    }

    public static EventBody Release(string network, string reason) => new()
    {
        ParticipantReleased = new ParticipantReleased { Network = network, Reason = reason ?? "" },
    };

    public static EventBody DeliverDemand(Google.Protobuf.WellKnownTypes.Timestamp? deadline, string note) => new()
    {
        DemandDelivered = new DemandDelivered { Deadline = deadline, Note = note ?? "" },
    };

    public static EventBody RecordCommunication(CommunicationKind kind, string summary) => new()
    {
        TargetCommunication = new TargetCommunication { Kind = kind, Summary = summary ?? "" },
    };

    /// <summary>
    /// The initiator's operations (open, invite, amend, change the status, speak to the
    /// target…) are its alone. The log enforces this on every event
    /// (<see cref="EventLog"/>); this says so before anything is decided, in words that
    /// name what was attempted.
    /// </summary>
    public static void RequireInitiator(FightState fight, string network, string rule, string verb)
    {
        if (fight.OriginNode != network)
        {
            var hint = rule == Rules.OneVoice ? " If the target contacted you, file a referral." : "";
            throw new RuleViolation(RefusalKind.PermissionDenied, rule,
                $"{EventLog.Capitalise(rule)}: only the initiating network can {verb} this fight; this node joined it.{hint}");
        }
    }

    /// <summary>
    /// Whether a submission is a referral or incident: kept in the initiator's private
    /// reports, never appended to the fight's shared log.
    /// </summary>
    public static bool IsReport(SubmissionPayload s) => s.KindCase == SubmissionPayload.KindOneofCase.FileReport;

    /// <summary>
    /// Checks a referral or incident before it goes to the initiator. Reports are not
    /// part of the shared log: they are kept by the initiator alone.
    /// </summary>
    public static void CheckReport(FightState fight, string network, FileReport report)
    {
        if (report.Kind == ReportKind.Unspecified || !Enum.IsDefined(report.Kind))
        {
            throw RuleViolation.Invalid("Say what kind of report this is: referral, police, lawsuit, retaliation, suspected infiltrator or other.");
        }
        Text.Check("summary", report.Summary, Text.LongMax, required: true);
        if (report.Kind == ReportKind.Referral && network == fight.OriginNode)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.OneVoice,
                "One voice: the initiating network records contact with the target as a communication, not a referral.");
        }
        if (network != fight.OriginNode && !fight.Participants.Any(p => p.Network == network))
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.OneVoice,
                $"Network {Identifiers.Fingerprint(network)} has no part in this fight.");
        }
    }

    /// <summary>Turns a participant's submission (or the initiator's own action) into the event the origin appends.</summary>
    public static EventBody FromSubmission(SubmissionPayload s) => s.KindCase switch
    {
        SubmissionPayload.KindOneofCase.AcceptInvitation => new EventBody
        {
            InvitationAccepted = new InvitationAccepted { Network = s.SubmitterNode, TermsHash = s.AcceptInvitation.TermsHash },
        },
        SubmissionPayload.KindOneofCase.DeclineInvitation => new EventBody
        {
            InvitationDeclined = new InvitationDeclined
            {
                Network = s.SubmitterNode,
                Reason = s.DeclineInvitation.Reason,
                Offer = s.DeclineInvitation.Offer,
            },
        },
        SubmissionPayload.KindOneofCase.ReaffirmTerms => new EventBody
        {
            TermsReaffirmed = new TermsReaffirmed { Network = s.SubmitterNode, TermsHash = s.ReaffirmTerms.TermsHash },
        },
        SubmissionPayload.KindOneofCase.DeclineAmendment => new EventBody
        {
            AmendmentDeclined = new AmendmentDeclined { Network = s.SubmitterNode, Reason = s.DeclineAmendment.Reason },
        },
        SubmissionPayload.KindOneofCase.RequestRelease => new EventBody
        {
            ReleaseRequested = new ReleaseRequested { Network = s.SubmitterNode, Reason = s.RequestRelease.Reason },
        },
        SubmissionPayload.KindOneofCase.PlanAction => new EventBody
        {
            ActionPlanned = new ActionPlanned { ActionId = s.PlanAction.ActionId, Network = s.SubmitterNode, Plan = s.PlanAction.Plan },
        },
        SubmissionPayload.KindOneofCase.UpdateAction => new EventBody
        {
            ActionUpdated = new ActionUpdated { ActionId = s.UpdateAction.ActionId, Network = s.SubmitterNode, Plan = s.UpdateAction.Plan },
        },
        SubmissionPayload.KindOneofCase.CancelAction => new EventBody
        {
            ActionCancelled = new ActionCancelled { ActionId = s.CancelAction.ActionId, Network = s.SubmitterNode, Reason = s.CancelAction.Reason },
        },
        SubmissionPayload.KindOneofCase.ReportAction => new EventBody
        {
            ActionReported = new ActionReported
            {
                ActionId = s.ReportAction.ActionId,
                Network = s.SubmitterNode,
                Report = s.ReportAction.Report,
                Turnout = s.ReportAction.Turnout,
            },
        },
        SubmissionPayload.KindOneofCase.AcknowledgeStandDown => new EventBody
        {
            StandDownAcknowledged = new StandDownAcknowledged { Network = s.SubmitterNode },
        },
        _ => throw RuleViolation.Invalid($"A fight does not take a {s.KindCase} submission as an event."),
    };

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

    /// <summary>open → escalating ⇄ paused, and from any live state to an ending.</summary>
    public static bool CanMove(FightStatus from, FightStatus to) => (from, to) switch
    {
        (FightStatus.Open, FightStatus.Escalating) => true,
        (FightStatus.Escalating, FightStatus.Paused) => true,
        (FightStatus.Paused, FightStatus.Escalating) => true,
        (FightStatus.Open or FightStatus.Escalating or FightStatus.Paused, _) when IsEnded(to) => true,
        _ => false,
    };

    internal static void RequireNotEnded(FightState fight, string what)
    {
        if (IsEnded(fight.Status))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SharedOutcome,
                $"Shared outcome: the fight has ended ({Describe(fight.Status)}); nobody can {what} now.");
        }
    }

    private static void CheckTarget(Target? target)
    {
        Text.Check("target name", target?.Name, Text.ShortMax, required: true);
        Text.Check("target parent company", target?.ParentCompany, Text.ShortMax);
    }

    public static string Describe(FightStatus s) => s switch
    {
        FightStatus.CalledOff => "called off",
        FightStatus.Unspecified => "unspecified",
        _ => s.ToString().ToLowerInvariant(),
    };
}
