using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Sealing;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Core.Commands;

/// <summary>
/// What the origin does with a verified submission from another network: record it
/// once (a re-sent submission id changes nothing) through the origin log — or, for a
/// referral or incident, in the initiator's private reports.
/// </summary>
public sealed class Submissions(IFederationStore store, OriginLog origin, NodeIdentity identity, TimeProvider time, StorageVault vault)
{
    /// <summary>
    /// Records a submission for an object this node originates: the one path for Submit and
    /// SubmitStream. <paramref name="proof"/> is what the network signed, embedded in the
    /// event so that every node can check it; an unshared report-back keeps it here, since
    /// its signed bytes hold what only the issuer may read.
    /// </summary>
    public async Task<SubmitResponse> RecordAsync(SubmissionPayload submission, SubmissionProof? proof, CancellationToken ct)
    {
        if (CallOuts.IssuerOnly(submission.CallOutResponse) is not null)
        {
            proof = null;
        }
        // The same date rule as for events: a peer's submission is refused whole, before anything is read or written.
        Dates.CheckAll(submission);
        var known = Identifiers.TryOriginOf(submission.ObjectId, out var objectOrigin);
        if (known && objectOrigin == identity.NodeId && Fights.IsAction(submission) && store.GetObject(submission.ObjectId) is { Kind: ObjectKind.Fight, LastSequence: > 0 } fight)
        {
            var result = await AppendActionAsync(FightState.Parser.ParseFrom(fight.State), submission.SubmitterNode, Fights.FromSubmission(submission), submission.SubmissionId, ct, proof);
            return new SubmitResponse { Sequence = result.LastSequence, Duplicate = result.Duplicate };
        }
        if (known && objectOrigin == identity.NodeId && !Fights.IsReport(submission))
        {
            // The common case (a pledge or a fight action for an object of this node's): the
            // append checks in its transaction that the object is known, so no read here.
            return await AppendAsync(submission, proof, ct);
        }
        var stored = known ? store.GetObject(submission.ObjectId) : null;
        if (stored is null || stored.LastSequence == 0)
        {
            throw Unknown(submission);
        }
        if (objectOrigin != identity.NodeId)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.OriginAuthority, "This node is not the origin of that object; submit to its origin.");
        }
        if (stored.Kind != ObjectKind.Fight)
        {
            throw RuleViolation.Invalid("Referrals and incidents are filed with fights.");
        }
        var recorded = await FileReportAsync(FightState.Parser.ParseFrom(stored.State), submission.SubmitterNode, submission.FileReport, submission.SubmissionId, ct);
        return new SubmitResponse { Duplicate = !recorded };
    }

    /// <summary>
    /// Stores a referral or incident at the initiator, once per submission id: kept in its
    /// private reports, not the fight's log. False when that submission was recorded already.
    /// </summary>
    public Task<bool> FileReportAsync(FightState fight, string network, FileReport report, string? submissionId, CancellationToken ct)
    {
        Fights.CheckReport(fight, network, report);
        // Sealed before the transaction: it needs only the public half, so a locked node files it too.
        var sealedReport = vault.Seal(new FightReport
        {
            FightId = fight.Id,
            Network = network,
            Kind = report.Kind,
            Summary = report.Summary,
            At = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
        }.ToByteArray());
        return store.WriteAsync(tx =>
        {
            if (submissionId is not null && tx.SubmissionSequence(submissionId) is not null)
            {
                return false;
            }
            tx.InsertReport(fight.Id, network, sealedReport);
            if (submissionId is not null)
            {
                tx.RecordSubmission(submissionId, fight.Id, 0);
            }
            return true;
        }, ct);
    }

    /// <summary>
    /// Appends a submission (not a report) to the log of an object this node originates.
    /// The append reads the object in its own transaction (on PostgreSQL, locking its row),
    /// so that is where it is checked to be known and where its kind picks the rule: one
    /// read of the object per submission.
    /// </summary>
    private async Task<SubmitResponse> AppendAsync(SubmissionPayload submission, SubmissionProof? proof, CancellationToken ct)
    {
        var result = await origin.AppendAsync(
            submission.ObjectId,
            stored => stored is null || stored.LastSequence == 0 ? throw Unknown(submission) : stored.Kind,
            submission.SubmitterNode,
            state => state switch
            {
                FightState => [Fights.FromSubmission(submission)],
                CallOutState => [CallOuts.FromSubmission(submission)],
                _ => throw RuleViolation.Invalid("Unknown object kind."),
            },
            submission.SubmissionId,
            ct,
            KeepIssuerOnly(submission),
            proof);
        return new SubmitResponse { Sequence = result.LastSequence, Duplicate = result.Duplicate };
    }

    /// <summary>
    /// An unshared report-back's content stays at the issuer, in its local table, never in
    /// the call-out's log (issue 15 #9); its latest one per network is kept.
    /// </summary>
    private Action<IStoreTransaction, Google.Protobuf.IMessage>? KeepIssuerOnly(SubmissionPayload submission) =>
        CallOuts.IssuerOnly(submission.CallOutResponse) is { } kept && vault.Seal(kept.ToByteArray()) is var sealedKept
            ? (tx, state) =>
            {
                if (state is CallOutState)
                {
                    tx.PutLocalDetails(CallOuts.IssuerOnlyKey(submission.ObjectId, submission.SubmitterNode), sealedKept);
                }
            }
            : null;

    /// <summary>
    /// The one path for a network's action event at the initiator: a participants-only plan
    /// (and everything after it) goes in the fight's participants-only log, whose audience is
    /// the committed networks; a public plan goes in the shared log (issue 15 #2).
    /// </summary>
    public async Task<AppendResult> AppendActionAsync(FightState fight, string actor, EventBody body, string? submissionId, CancellationToken ct,
        SubmissionProof? proof = null)
    {
        var participantsId = Briefings.IdOf(fight.Id);
        var participants = store.Read(participantsId, ObjectKind.Briefings, BriefingsState.Parser);
        if (!FightActions.BelongsToParticipants(body, participants))
        {
            return await origin.AppendAsync(fight.Id, ObjectKind.Fight, actor, _ => [body], submissionId, ct, proof);
        }
        if (participants is null)
        {
            // The log's opening is the initiator's own event; the plan that follows is the network's.
            Briefings.Act(fight, new BriefingsState(), actor, body);
            await origin.OpenBriefingsAsync(fight.Id, ct);
        }
        return await origin.AppendAsync(participantsId, ObjectKind.Briefings, actor,
            s => Briefings.Act(fight, s as BriefingsState, actor, body), submissionId, ct, proof);
    }

    private static RuleViolation Unknown(SubmissionPayload submission) =>
        RuleViolation.NotFound($"No fight or call-out {Identifiers.Truncate(submission.ObjectId)} is known here.");
}
