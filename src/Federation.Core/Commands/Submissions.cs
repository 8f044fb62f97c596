using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Core.Commands;

/// <summary>
/// What the origin does with a verified submission from another network: record it
/// once (a re-sent submission id changes nothing) through the origin log — or, for a
/// referral or incident, in the initiator's private reports.
/// </summary>
public sealed class Submissions(OriginLog origin, FightCommands fights)
{
    /// <summary>
    /// Records a submission (not a report) to an object this node originates. The append
    /// reads the object in its own transaction (on PostgreSQL, locking its row), so that is
    /// where it is checked to be known (<paramref name="unknown"/> says how to refuse it if
    /// not) and where its kind picks the rule: one read of the object per submission.
    /// </summary>
    public async Task<SubmitResponse> RecordAsync(SubmissionPayload submission, Func<Exception> unknown, CancellationToken ct)
    {
        if (submission.KindCase == SubmissionPayload.KindOneofCase.FileReport)
        {
            throw new ArgumentException("Reports are filed with RecordReportAsync.", nameof(submission));
        }
        var result = await origin.AppendAsync(
            submission.ObjectId,
            stored => stored is null || stored.LastSequence == 0 ? throw unknown() : stored.Kind,
            submission.SubmitterNode,
            state => state switch
            {
                FightState => [Fights.FromSubmission(submission)],
                CallOutState => [CallOuts.FromSubmission(submission)],
                _ => throw RuleViolation.Invalid("Unknown object kind."),
            },
            submission.SubmissionId,
            ct);
        return new SubmitResponse { Sequence = result.LastSequence, Duplicate = result.Duplicate };
    }

    /// <summary>A referral or incident, filed with the initiator of the fight <paramref name="stored"/>: kept in its private reports, not the fight's log.</summary>
    public async Task<SubmitResponse> RecordReportAsync(SubmissionPayload submission, StoredObject stored, CancellationToken ct)
    {
        if (stored.Kind != ObjectKind.Fight)
        {
            throw RuleViolation.Invalid("Referrals and incidents are filed with fights.");
        }
        var fight = FightState.Parser.ParseFrom(stored.State);
        Fights.CheckReport(fight, submission.SubmitterNode, submission.FileReport);
        var recorded = await fights.RecordReportAsync(fight, submission.SubmitterNode, submission.FileReport, submission.SubmissionId, ct);
        return new SubmitResponse { Duplicate = !recorded };
    }
}
