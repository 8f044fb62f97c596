using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Commands;

/// <summary>
/// The confidentiality tiers beyond the public log: local details (the affected worker
/// or tenant; never leave this node), participants-only briefings (committed networks
/// only), and purging both — with referrals and incidents — after a fight ends.
/// </summary>
public sealed class Confidential(IFederationStore store, OriginLog origin, FightCommands fights, NodeIdentity identity)
{
    public const int MaxDetail = 2_000;

    public async Task<LocalDetails> SetLocalDetailsAsync(string fightId, LocalDetails details, CancellationToken ct)
    {
        RequireOwn(fightId, "keep local details for");
        Text.Check("affected person", details.AffectedPerson, Text.ShortMax);
        Text.Check("contact", details.Contact, Text.ShortMax);
        Text.Check("notes", details.Notes, MaxDetail);
        await store.WriteAsync(tx =>
        {
            tx.PutLocalDetails(fightId, details.ToByteArray());
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
        return store.GetLocalDetails(fightId) is { } bytes ? LocalDetails.Parser.ParseFrom(bytes) : new LocalDetails();
    }

    public async Task<BriefingsState> PostBriefingAsync(string fightId, string text, CancellationToken ct)
    {
        var fight = RequireOwn(fightId, "post briefings to");
        var result = await origin.AppendAsync(Briefings.IdOf(fightId), ObjectKind.Briefings, identity.NodeId,
            s => Briefings.Post(fight, s as BriefingsState, text), ct: ct);
        return (BriefingsState)result.State;
    }

    /// <summary>The briefings as this node holds them: all of them at the initiator and at committed networks; none elsewhere.</summary>
    public BriefingsState GetBriefings(string fightId)
    {
        var fight = fights.Find(fightId) ?? throw RuleViolation.NotShown("briefings", fightId);
        var stored = store.GetObject(Briefings.IdOf(fightId));
        if (stored is null)
        {
            return fight.OriginNode == identity.NodeId || fight.Participants.Any(p => p.Network == identity.NodeId && Fights.IsIn(p))
                ? new BriefingsState { FightId = fightId, OriginNode = fight.OriginNode }
                : throw RuleViolation.NotShown("briefings", fightId);
        }
        return BriefingsState.Parser.ParseFrom(stored.State);
    }

    /// <summary>Deletes this node's confidential details of a fight: local details, briefing texts, referrals and incidents.</summary>
    public async Task<PurgeReport> PurgeAsync(string fightId, CancellationToken ct)
    {
        fights.Get(fightId);
        var briefingsId = Briefings.IdOf(fightId);
        var purged = await store.WriteAsync(tx =>
        {
            var report = new PurgeReport { LocalDetails = tx.DeleteLocalDetails(fightId), Reports = (uint)tx.DeleteReports(fightId) };
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

    /// <summary>Fights that ended more than <paramref name="after"/> ago.</summary>
    public IEnumerable<string> EndedBefore(DateTimeOffset cutoff) => fights.List()
        .Where(f => Fights.IsEnded(f.Status) && f.History.Count > 0 && f.History[^1].At.ToDateTimeOffset() < cutoff)
        .Select(f => f.Id);

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
