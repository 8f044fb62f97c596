using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Sealing;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Commands;

/// <summary>
/// The confidentiality tiers beyond the public log: local details (the affected worker
/// or tenant; never leave this node), participants-only briefings (committed networks
/// only), and purging both — with referrals and incidents — after a fight ends.
/// </summary>
public sealed class Confidential(IFederationStore store, OriginLog origin, FightCommands fights, NodeIdentity identity, StorageVault vault, SealedLogs sealedLogs,
    Federation.Core.Fediverse.FediversePublisher fediverse)
{
    public const int MaxDetail = 2_000;

    public async Task<LocalDetails> SetLocalDetailsAsync(string fightId, LocalDetails details, CancellationToken ct)
    {
        RequireOwn(fightId, "keep local details for");
        Text.Check("affected person", details.AffectedPerson, Text.ShortMax);
        Text.Check("contact", details.Contact, Text.ShortMax);
        Text.Check("notes", details.Notes, MaxDetail);
        var sealedDetails = vault.Seal(details.ToByteArray());
        await store.WriteAsync(tx =>
        {
            tx.PutLocalDetails(fightId, sealedDetails);
            return true;
        }, ct);
        return details;
    }

    public LocalDetails GetLocalDetails(string fightId)
    {
        if (fights.Find(fightId)?.OriginNode != identity.NodeId)
        {
            throw RuleViolation.NotShown("local details", fightId);
        }
        return store.GetLocalDetails(fightId) is { } bytes ? LocalDetails.Parser.ParseFrom(vault.Open(bytes)) : new LocalDetails();
    }

    public async Task<BriefingsState> PostBriefingAsync(string fightId, string text, CancellationToken ct)
    {
        var fight = RequireOwn(fightId, "post briefings to");
        var result = await origin.AppendAsync(Briefings.IdOf(fightId), ObjectKind.Briefings, identity.NodeId,
            s => Briefings.Post(fight, s as BriefingsState, text), ct: ct);
        // Posting needs only the sealed log's skeleton, so it works locked; the answer then holds
        // the new briefing alone, since the earlier ones cannot be opened (docs/adr/0025).
        return sealedLogs.Unlocked ? GetBriefings(fightId) : (BriefingsState)result.State;
    }

    /// <summary>The briefings as this node holds them: all of them at the initiator and at committed networks; none elsewhere. Refused while locked.</summary>
    public BriefingsState GetBriefings(string fightId)
    {
        var fight = fights.Find(fightId) ?? throw RuleViolation.NotShown("briefings", fightId);
        var stored = sealedLogs.Full(store, Briefings.IdOf(fightId));
        if (stored is null)
        {
            return fight.OriginNode == identity.NodeId || fight.Participants.Any(p => p.Network == identity.NodeId && Fights.IsIn(p))
                ? new BriefingsState { FightId = fightId, OriginNode = fight.OriginNode }
                : throw RuleViolation.NotShown("briefings", fightId);
        }
        return stored;
    }

    /// <summary>Deletes this node's confidential details of a fight: local details, briefing texts, referrals and incidents.</summary>
    public async Task<PurgeReport> PurgeAsync(string fightId, CancellationToken ct)
    {
        fights.Get(fightId);
        var briefingsId = Briefings.IdOf(fightId);
        var purged = await store.WriteAsync(tx =>
        {
            var report = new PurgeReport { LocalDetails = tx.DeleteLocalDetails(fightId), Reports = (uint)tx.DeleteReports(fightId) };
            DeleteInTransit(tx, fightId);
            DeleteInTransit(tx, briefingsId);
            if (tx.GetObject(briefingsId) is { } stored)
            {
                var state = BriefingsState.Parser.ParseFrom(stored.State);
                report.Briefings = (uint)state.Briefings.Count;
                tx.DeleteEvents(briefingsId);
                tx.PutObject(stored with { State = Briefings.Purged(state).ToByteArray() });
            }
            return report;
        }, ct);
        await store.CheckpointAsync();
        return purged;
    }

    /// <summary>
    /// Deletes this node's confidential content of a closed call-out (what <see cref="CallOutPurge"/>
    /// does not keep), its log's events, the issuer's unshared report-backs, and anything of
    /// it still queued, parked or held. Returns false when there was nothing to purge.
    /// </summary>
    public async Task<bool> PurgeCallOutAsync(string callOutId, CancellationToken ct)
    {
        var purged = await store.WriteAsync(tx =>
        {
            if (tx.GetObject(callOutId) is not { Kind: ObjectKind.CallOut } stored)
            {
                return false;
            }
            var state = CallOutState.Parser.ParseFrom(stored.State);
            if (!state.Closed || state.Purged)
            {
                return false;
            }
            foreach (var key in CallOutPurge.IssuerOnlyKeys(state))
            {
                tx.DeleteLocalDetails(key);
            }
            tx.DeleteEvents(callOutId);
            DeleteInTransit(tx, callOutId);
            tx.PutObject(stored with { State = CallOutPurge.Purged(state).ToByteArray() });
            fediverse.Purged(tx, callOutId);
            return true;
        }, ct);
        if (purged)
        {
            await store.CheckpointAsync();
        }
        return purged;
    }

    /// <summary>Closed call-outs whose purge clock started before <paramref name="cutoff"/> and that this node has not purged yet.</summary>
    public IEnumerable<string> CallOutsClosedBefore(DateTimeOffset cutoff) =>
        store.ReadAll(ObjectKind.CallOut, CallOutState.Parser).Where(c => CallOutPurge.IsDue(c, cutoff)).Select(c => c.Id);

    /// <summary>
    /// Fights whose purge clock started before <paramref name="cutoff"/>: those that ended, and
    /// those this node declined or was released from (it may never learn that they ended).
    /// </summary>
    public IEnumerable<string> EndedBefore(DateTimeOffset cutoff) => fights.List()
        .Where(f => ClockStart(f) is { } start && start < cutoff)
        .Select(f => f.Id);

    private DateTimeOffset? ClockStart(FightState f)
    {
        if (Fights.IsEnded(f.Status) && f.History.Count > 0)
        {
            return f.History[^1].At.ToDateTimeOffset();
        }
        return f.OriginNode != identity.NodeId
            && f.Participants.FirstOrDefault(p => p.Network == identity.NodeId) is { State: ParticipantState.Released or ParticipantState.Declined, LeftAt: { } left }
            ? left.ToDateTimeOffset()
            : null;
    }

    /// <summary>An object being purged leaves nothing behind in the delivery tables either.</summary>
    private static void DeleteInTransit(IStoreTransaction tx, string objectId)
    {
        tx.DeleteOutboxItems(objectId);
        tx.DeleteDeadLetters(objectId);
        tx.DeleteHeldEvents(objectId);
    }

    private FightState RequireOwn(string fightId, string verb)
    {
        var fight = fights.Get(fightId);
        if (fight.OriginNode != identity.NodeId)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.OriginAuthority,
                $"Only the initiating network can {verb} this fight.");
        }
        return fight;
    }
}
