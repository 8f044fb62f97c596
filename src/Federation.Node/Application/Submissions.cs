using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Log;
using Federation.Node.Storage;
using Google.Protobuf;

namespace Federation.Node.Application;

/// <summary>
/// What the origin does with a verified submission from another network: record it
/// once (a re-sent submission id changes nothing) through the origin log — or, for a
/// referral or incident, in the initiator's private reports.
/// </summary>
public sealed class Submissions(IFederationStore store, OriginLog origin, FightCommands fights)
{
    public async Task<SubmitResponse> RecordAsync(SubmissionPayload submission, StoredObject stored, CancellationToken ct)
    {
        if (submission.KindCase == SubmissionPayload.KindOneofCase.FileReport)
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
        Func<IMessage?, IReadOnlyList<EventBody>> decide = stored.Kind switch
        {
            ObjectKind.Fight => _ => [Fights.FromSubmission(submission)],
            ObjectKind.CallOut => _ => [CallOuts.FromSubmission(submission)],
            _ => throw RuleViolation.Invalid("Unknown object kind."),
        };
        var result = await origin.AppendAsync(submission.ObjectId, stored.Kind, submission.SubmitterNode, decide, submission.SubmissionId, ct);
        return new SubmitResponse { Sequence = result.LastSequence, Duplicate = result.Duplicate };
    }

    public StoredObject? Find(string objectId) => store.GetObject(objectId);
}
