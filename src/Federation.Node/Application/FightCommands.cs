using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Identity;
using Federation.Node.Log;
using Federation.Node.Storage;

namespace Federation.Node.Application;

/// <summary>What organisers and delegates can do with joint fights.</summary>
public sealed class FightCommands(SqliteStore store, OriginLog origin, PeerDirectory peers, NodeIdentity identity)
{
    public Task<FightState> DraftAsync(string title, Target? target, FightTerms? terms, CancellationToken ct)
    {
        var id = Identifiers.NewObjectId(identity.NodeId);
        var draft = Fights.Draft(id, identity.NodeId, title, target, terms);
        return origin.SaveDraftAsync(id, _ => draft, ct);
    }

    public Task<FightState> UpdateDraftTermsAsync(string fightId, FightTerms terms, CancellationToken ct)
    {
        RequireOwn(fightId, "edit the terms of");
        return origin.SaveDraftAsync(fightId, current => Fights.UpdateDraftTerms(current!, terms), ct);
    }

    public Task<FightState> OpenAsync(string fightId, CancellationToken ct) =>
        AppendAsync(fightId, "open", s => Fights.Open(s), ct);

    public async Task<FightState> InviteAsync(string fightId, IReadOnlyCollection<string> networks, CancellationToken ct)
    {
        if (networks.Count == 0)
        {
            throw RuleViolation.Invalid("Name at least one network to invite.");
        }
        peers.RequirePeers(networks);
        RequireOwn(fightId, "invite networks to");
        var result = await origin.AppendAsync(fightId, ObjectKind.Fight, identity.NodeId,
            s => networks.Distinct().Select(n => Fights.Invite(Existing(s, fightId), n)).ToList(), ct: ct);
        return (FightState)result.State;
    }

    public Task<FightState> ChangeStatusAsync(string fightId, FightStatus to, string note, CancellationToken ct) =>
        AppendAsync(fightId, "change the status of", s => Fights.ChangeStatus(s, to, note), ct);

    public Task<SubmissionReceipt> AcceptAsync(string fightId, string termsHash, CancellationToken ct) =>
        SubmitAsync(fightId, new SubmissionPayload { AcceptInvitation = new AcceptInvitation { TermsHash = termsHash ?? "" } }, ct);

    public Task<SubmissionReceipt> DeclineAsync(string fightId, string reason, string offer, CancellationToken ct) =>
        SubmitAsync(fightId, new SubmissionPayload { DeclineInvitation = new DeclineInvitation { Reason = reason ?? "", Offer = offer ?? "" } }, ct);

    public FightState Get(string fightId)
    {
        Identifiers.OriginOf(fightId);
        var stored = store.GetObject(fightId);
        return stored is { Kind: ObjectKind.Fight }
            ? FightState.Parser.ParseFrom(stored.State)
            : throw RuleViolation.NotFound($"No fight {fightId} here.");
    }

    public IReadOnlyList<FightState> List() =>
        store.ListObjects(ObjectKind.Fight).Select(o => FightState.Parser.ParseFrom(o.State)).ToList();

    private async Task<FightState> AppendAsync(string fightId, string verb, Func<FightState, EventBody> decide, CancellationToken ct)
    {
        RequireOwn(fightId, verb);
        var result = await origin.AppendAsync(fightId, ObjectKind.Fight, identity.NodeId, s => [decide(Existing(s, fightId))], ct: ct);
        return (FightState)result.State;
    }

    private async Task<SubmissionReceipt> SubmitAsync(string fightId, SubmissionPayload submission, CancellationToken ct)
    {
        var fight = Get(fightId);
        if (fight.OriginNode == identity.NodeId)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt, "This node initiated the fight; invitations are answered by the networks invited.");
        }
        // Check against our copy so the delegate hears "no" (a stale hash, say) at once;
        // the initiator checks again and has the last word.
        var probe = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = fightId,
            ObjectKind = ObjectKind.Fight,
            OriginNode = fight.OriginNode,
            ActorNode = identity.NodeId,
            Sequence = fight.LastSequence + 1,
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Body = Fights.FromSubmission(new SubmissionPayload(submission) { SubmitterNode = identity.NodeId }),
        };
        EventLog.Apply(fight, probe);
        return await origin.SubmitAsync(fightId, submission, ct);
    }

    private void RequireOwn(string fightId, string verb)
    {
        if (Get(fightId).OriginNode != identity.NodeId)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.SharedOutcome,
                $"Only the initiating network can {verb} this fight; this node joined it.");
        }
    }

    private static FightState Existing(Google.Protobuf.IMessage? state, string id) =>
        state as FightState ?? throw RuleViolation.NotFound($"No fight {id} here.");
}
