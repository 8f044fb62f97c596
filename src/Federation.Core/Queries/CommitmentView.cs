using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Core.Queries;

/// <summary>
/// Who committed to what in a fight or call-out, read from the log this node holds, each
/// commitment checked here against the committing network's own signature (issue 16 #6).
/// A fight's participants-only log is not listed: its plans are checked on arrival like
/// every event, and read with the briefings.
/// </summary>
public sealed class CommitmentView(IObjectReads store)
{
    private const int Page = 500;

    public IReadOnlyList<Commitment> Of(string objectId)
    {
        var stored = store.GetObject(objectId);
        if (stored is null || stored.Kind == ObjectKind.Briefings)
        {
            throw RuleViolation.NotFound($"No fight or call-out {Identifiers.Truncate(objectId)} is known here.");
        }
        var commitments = new List<Commitment>();
        for (ulong after = 0; after < stored.LastSequence;)
        {
            var events = store.LoadEvents(objectId, after, Page);
            if (events.Count == 0)
            {
                break;
            }
            foreach (var e in events)
            {
                var payload = EventPayload.Parser.ParseFrom(e.Payload);
                if (Commitments.IsCommitment(payload))
                {
                    commitments.Add(Describe(payload));
                }
            }
            after = events[^1].Sequence;
        }
        return commitments;
    }

    private static Commitment Describe(EventPayload e)
    {
        var why = e.Submission.IsEmpty ? Commitments.WhyNoProof(e) : SubmissionProof.Check(e);
        return new Commitment
        {
            ObjectId = e.ObjectId,
            Sequence = e.Sequence,
            Network = e.ActorNode,
            What = Commitments.What(e.Body)!,
            TermsHash = Commitments.TermsHashOf(e.Body),
            OccurredAt = e.OccurredAt ?? new Timestamp(),
            Proven = why is null,
            WhyUnproven = why ?? "",
            Submission = e.Submission,
        };
    }
}
