using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>The joint-fight rules (docs/protocol.md, "The joint-fight rules"): what the initiator may record, and what others may ask it to.</summary>
public static partial class Fights
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

    /// <summary>Whether a submission is about one of the submitter's own actions (plan, update, cancel, report).</summary>
    public static bool IsAction(SubmissionPayload s) => s.KindCase is SubmissionPayload.KindOneofCase.PlanAction
        or SubmissionPayload.KindOneofCase.UpdateAction or SubmissionPayload.KindOneofCase.CancelAction or SubmissionPayload.KindOneofCase.ReportAction;

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

    /// <summary>open → escalating ⇄ paused, and from any live state to an ending.</summary>
    public static bool CanMove(FightStatus from, FightStatus to) => (from, to) switch
    {
        (FightStatus.Open, FightStatus.Escalating) => true,
        (FightStatus.Escalating, FightStatus.Paused) => true,
        (FightStatus.Paused, FightStatus.Escalating) => true,
        (FightStatus.Open or FightStatus.Escalating or FightStatus.Paused, _) when IsEnded(to) => true,
        _ => false,
    };

    /// <summary>
    /// The statuses the initiator can move to, the likeliest first, for a status control:
    /// an open fight escalates, a paused one resumes, and an escalating one ends (won first)
    /// before it pauses. Enum order put "paused" first, which is rarely what anyone wants
    /// (issue 17, item 4). Exactly the moves <see cref="CanMove"/> allows.
    /// </summary>
    public static IReadOnlyList<FightStatus> NextStatuses(FightStatus from) => from switch
    {
        FightStatus.Open => [FightStatus.Escalating, .. Endings],
        FightStatus.Escalating => [.. Endings, FightStatus.Paused],
        FightStatus.Paused => [FightStatus.Escalating, .. Endings],
        _ => [],
    };

    // The happiest ending first: a fight is for winning, and "called off" is the rarest.
    private static readonly FightStatus[] Endings = [FightStatus.Won, FightStatus.Settled, FightStatus.Lost, FightStatus.CalledOff];

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
