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

    /// <summary>Turns a participant's submission into the event the origin appends.</summary>
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
        _ => throw RuleViolation.Invalid($"A fight does not take a {s.KindCase} submission."),
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
        if (existing is { State: ParticipantState.Invited or ParticipantState.Committed })
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
        if (p.State == ParticipantState.Committed)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.InUntilTheEnd,
                "In until the end: this network has already committed to the fight; it may ask the initiator to release it.");
        }
        if (p.State != ParticipantState.Invited)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt,
                "Take it or leave it: this network has already declined; the initiator may invite it again.");
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
        fight.History.Add(new StatusChange { From = change.From, To = change.To, Note = change.Note, At = e.OccurredAt });
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

    private static void RequireNotEnded(FightState fight, string what)
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
