using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Core.Sealing;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Core.Commands;

/// <summary>
/// What organisers and delegates can do with joint fights. The initiator's operations
/// are appended to the fight's log here; a participant's are checked against its copy
/// (so the delegate hears "no" at once) and submitted to the initiator, which checks
/// again and has the last word.
/// </summary>
public sealed class FightCommands(IFederationStore store, OriginLog origin, Submissions submissions, PeerRoster peers, NodeIdentity identity, NodeClock clock, TimeProvider time, StorageVault vault, SealedLogs sealedLogs)
{
    // ---- The initiator -----------------------------------------------------------

    public Task<FightState> DraftAsync(string title, Target? target, FightTerms? terms, CancellationToken ct)
    {
        var id = Identifiers.NewObjectId(identity.NodeId);
        var draft = Fights.Draft(id, identity.NodeId, title, target, terms);
        return origin.SaveDraftAsync(id, _ => draft, ct);
    }

    public Task<FightState> UpdateDraftTermsAsync(string fightId, FightTerms terms, CancellationToken ct)
    {
        Identifiers.OriginOf(fightId);
        return origin.SaveDraftAsync(fightId, current =>
        {
            var fight = current ?? throw NoFight(fightId);
            Fights.RequireInitiator(fight, identity.NodeId, Rules.TermsFirst, "edit the terms of");
            return Fights.UpdateDraftTerms(fight, terms);
        }, ct);
    }

    public Task<FightState> OpenAsync(string fightId, CancellationToken ct) =>
        AppendAsync(fightId, "open", Rules.TermsFirst, f => Fights.Open(f), ct);

    public async Task<FightState> InviteAsync(string fightId, IReadOnlyCollection<string> networks, CancellationToken ct)
    {
        if (networks.Count == 0)
        {
            throw RuleViolation.Invalid("Name at least one network to invite.");
        }
        // Authority first, so a participant hears which rule it ran into before any word
        // about the networks it named; the append checks it again in its transaction.
        Fights.RequireInitiator(Get(fightId), identity.NodeId, Rules.TakeItOrLeaveIt, "invite networks to");
        peers.RequirePeers(networks);
        var invited = await AppendAsync(fightId, "invite networks to", Rules.TakeItOrLeaveIt,
            f => networks.Distinct().Select(n => Fights.Invite(f, n)).ToList(), ct);
        // A copy: the warnings belong to this reply, not to the state the log holds.
        invited = invited.Clone();
        invited.Warnings.AddRange(peers.NotPeeredBack(networks));
        return invited;
    }

    public Task<FightState> ChangeStatusAsync(string fightId, FightStatus to, string note, CancellationToken ct) =>
        AppendAsync(fightId, "change the status of", Rules.SharedOutcome, f => Fights.ChangeStatus(f, to, note), ct);

    public Task<FightState> AmendAsync(string fightId, FightTerms terms, string note, CancellationToken ct) =>
        AppendAsync(fightId, "amend the terms of", Rules.TermsFirst, f => Fights.Amend(f, terms, note), ct);

    public Task<FightState> GrantReleaseAsync(string fightId, string network, string reason, CancellationToken ct) =>
        AppendAsync(fightId, "release networks from", Rules.InUntilTheEnd, f => Fights.Release(network, reason), ct);

    public Task<FightState> DeliverDemandAsync(string fightId, Timestamp? deadline, string note, CancellationToken ct) =>
        AppendAsync(fightId, OneVoice, Rules.OneVoice, f => Fights.DeliverDemand(deadline, note), ct);

    public Task<FightState> RecordCommunicationAsync(string fightId, CommunicationKind kind, string summary, CancellationToken ct) =>
        AppendAsync(fightId, OneVoice, Rules.OneVoice, f => Fights.RecordCommunication(kind, summary), ct);

    /// <summary>Referrals and incidents filed with this node as the fight's initiator.</summary>
    public IReadOnlyList<FightReport> ListReports(string fightId)
    {
        if (Find(fightId)?.OriginNode != identity.NodeId)
        {
            throw RuleViolation.NotShown("referrals or incidents", fightId);
        }
        return store.ListReports(fightId).Select(r => FightReport.Parser.ParseFrom(vault.Open(r))).ToList();
    }

    // ---- Any network in the fight ------------------------------------------------

    public Task<SubmissionReceipt> AcceptAsync(string fightId, string termsHash, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { AcceptInvitation = new AcceptInvitation { TermsHash = termsHash ?? "" } }, ct);

    public Task<SubmissionReceipt> DeclineAsync(string fightId, string reason, string offer, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { DeclineInvitation = new DeclineInvitation { Reason = reason ?? "", Offer = offer ?? "" } }, ct);

    public Task<SubmissionReceipt> ReaffirmAsync(string fightId, string termsHash, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { ReaffirmTerms = new ReaffirmTerms { TermsHash = termsHash ?? "" } }, ct);

    public Task<SubmissionReceipt> DeclineAmendmentAsync(string fightId, string reason, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { DeclineAmendment = new DeclineAmendment { Reason = reason ?? "" } }, ct);

    public Task<SubmissionReceipt> RequestReleaseAsync(string fightId, string reason, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { RequestRelease = new RequestRelease { Reason = reason ?? "" } }, ct);

    public Task<SubmissionReceipt> AcknowledgeStandDownAsync(string fightId, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { AcknowledgeStandDown = new AcknowledgeStandDown() }, ct);

    public async Task<SubmissionReceipt> PlanActionAsync(string fightId, ActionPlan plan, CancellationToken ct)
    {
        var actionId = Guid.NewGuid().ToString();
        var receipt = await ActAsync(fightId, new SubmissionPayload { PlanAction = new PlanAction { ActionId = actionId, Plan = plan } }, ct);
        receipt.ActionId = actionId;
        return receipt;
    }

    public Task<SubmissionReceipt> UpdateActionAsync(string fightId, string actionId, ActionPlan plan, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { UpdateAction = new UpdateAction { ActionId = actionId ?? "", Plan = plan } }, ct);

    public Task<SubmissionReceipt> CancelActionAsync(string fightId, string actionId, string reason, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { CancelAction = new CancelAction { ActionId = actionId ?? "", Reason = reason ?? "" } }, ct);

    public Task<SubmissionReceipt> ReportActionAsync(string fightId, string actionId, string report, uint turnout, CancellationToken ct) =>
        ActAsync(fightId, new SubmissionPayload { ReportAction = new ReportAction { ActionId = actionId ?? "", Report = report ?? "", Turnout = turnout } }, ct);

    /// <summary>A referral (the target contacted us) or an incident, for the initiator's eyes only.</summary>
    public async Task<SubmissionReceipt> FileReportAsync(string fightId, FileReport report, CancellationToken ct)
    {
        var fight = Get(fightId);
        if (fight.OriginNode == identity.NodeId)
        {
            await submissions.FileReportAsync(fight, identity.NodeId, report, submissionId: null, ct);
            return new SubmissionReceipt { OriginNode = identity.NodeId, Recorded = true };
        }
        // Checked here so the delegate hears "no" at once; the initiator checks again.
        Fights.CheckReport(fight, identity.NodeId, report);
        return await origin.SubmitAsync(fightId, new SubmissionPayload { FileReport = report }, ct);
    }

    // ---- Reading -----------------------------------------------------------------

    /// <summary>The fight as this node's readers see it: with the participants-only plans this node holds.</summary>
    public FightState Get(string fightId) => WithParticipantsOnly(Stored(fightId));

    /// <summary>The fight as <see cref="Get"/> gives it, or null when this node holds none by that id.</summary>
    public FightState? Find(string fightId)
    {
        Identifiers.OriginOf(fightId);
        return store.Read(fightId, ObjectKind.Fight, FightState.Parser) is { } fight ? WithParticipantsOnly(fight) : null;
    }

    public IReadOnlyList<FightState> List() =>
        store.ReadAll(ObjectKind.Fight, FightState.Parser).Select(WithParticipantsOnly).ToList();

    /// <summary>The fight's shared-log state alone, for the rules.</summary>
    private FightState Stored(string fightId)
    {
        Identifiers.OriginOf(fightId);
        return store.Read(fightId, ObjectKind.Fight, FightState.Parser) ?? throw NoFight(fightId);
    }

    /// <remarks>
    /// While the node is locked the participants-only plans come as their skeletons (ids,
    /// networks, statuses; docs/adr/0025): enough for the rules, and shown as sealed.
    /// </remarks>
    private FightState WithParticipantsOnly(FightState fight) =>
        fight.Status == FightStatus.Draft ? fight
        : Briefings.WithParticipantsOnly(fight, sealedLogs.FullOrSkeleton(store, Briefings.IdOf(fight.Id)));

    public CalendarFile ExportCalendar(string fightId)
    {
        var fight = Get(fightId);
        return new CalendarFile
        {
            FileName = $"fight-{fightId[^8..]}.ics",
            ContentType = "text/calendar",
            Content = Calendar.ForFight(fight, time.GetUtcNow()),
        };
    }

    // ---- Plumbing ----------------------------------------------------------------

    private const string OneVoice = "speak to the target in";

    private Task<FightState> AppendAsync(string fightId, string verb, string rule, Func<FightState, EventBody> decide, CancellationToken ct) =>
        AppendAsync(fightId, verb, rule, f => [decide(f)], ct);

    /// <summary>
    /// The initiator's operations: one read of the fight, inside the append's transaction,
    /// where the initiator's authority is checked before the domain decides.
    /// </summary>
    private async Task<FightState> AppendAsync(string fightId, string verb, string rule, Func<FightState, IReadOnlyList<EventBody>> decide, CancellationToken ct)
    {
        Identifiers.OriginOf(fightId);
        var result = await origin.AppendAsync(fightId, stored => stored is { Kind: ObjectKind.Fight } ? ObjectKind.Fight : throw NoFight(fightId), identity.NodeId, s =>
        {
            var fight = (FightState)s!;
            Fights.RequireInitiator(fight, identity.NodeId, rule, verb);
            return decide(fight);
        }, ct: ct);
        return (FightState)result.State;
    }

    /// <summary>
    /// A network acting for itself: at the initiator it is recorded at once; elsewhere it
    /// is checked against this node's copy, then submitted to the initiator.
    /// </summary>
    private async Task<SubmissionReceipt> ActAsync(string fightId, SubmissionPayload submission, CancellationToken ct)
    {
        var fight = Stored(fightId);
        if (fight.Status == FightStatus.Draft)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TermsFirst, "This fight is still a draft.");
        }
        var body = Fights.FromSubmission(new SubmissionPayload(submission) { SubmitterNode = identity.NodeId });
        if (fight.OriginNode == identity.NodeId)
        {
            if (FightActions.ActionIdOf(body) is not null)
            {
                await submissions.AppendActionAsync(fight, identity.NodeId, body, submissionId: null, ct);
            }
            else
            {
                await origin.AppendAsync(fightId, ObjectKind.Fight, identity.NodeId, _ => [body], ct: ct);
            }
            return new SubmissionReceipt { OriginNode = identity.NodeId, Recorded = true };
        }
        var participants = store.Read(Briefings.IdOf(fightId), ObjectKind.Briefings, BriefingsState.Parser);
        try
        {
            if (FightActions.ActionIdOf(body) is not null && FightActions.BelongsToParticipants(body, participants))
            {
                // Checked against this node's copy of the participants-only log; the initiator checks again.
                Briefings.Act(fight, participants ?? new BriefingsState(), identity.NodeId, body);
            }
            else
            {
            EventLog.Apply(fight, new EventPayload
            {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = fightId,
            ObjectKind = ObjectKind.Fight,
            OriginNode = fight.OriginNode,
            ActorNode = identity.NodeId,
            Sequence = fight.LastSequence + 1,
            OccurredAt = Timestamp.FromDateTimeOffset(clock.UtcNow),
            Body = body,
            });
            }
        }
        catch (RuleViolation v) when (store.PendingSubmissions(fightId) > 0)
        {
            // Our copy may be behind our own earlier answer (an acceptance still on its way).
            throw new RuleViolation(v.Kind, v.Rule,
                $"{v.Message} (This node has an earlier answer for this fight still on its way to the initiator; once it is recorded, try again.)");
        }
        return await origin.SubmitAsync(fightId, submission, ct);
    }

    private static RuleViolation NoFight(string fightId) => RuleViolation.NotFound($"No fight {fightId} here.");
}
