using Federation.Contracts.V1;
using Federation.Core.Fediverse;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Core.Sealing;
using Federation.Core.Queries;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Core.Commands;

/// <summary>What a delegate can do with call-outs; each write goes through the origin log or a submission.</summary>
public sealed class CallOutCommands(IFederationStore store, OriginLog origin, PeerRoster peers, NodeIdentity identity, TimeProvider time, StorageVault vault,
    FediversePublisher fediverse)
{
    /// <param name="toFediverse">Also publish it, its public fields only, to the node's fediverse followers (issue 19).</param>
    public async Task<CallOutState> PublishAsync(CallOutContent content, IReadOnlyCollection<string> recipients, CallOutAudience? audience,
        CancellationToken ct, bool toFediverse = false)
    {
        CallOuts.CheckContent(content);
        if (toFediverse)
        {
            fediverse.RequireEnabled();
        }
        var chosen = AudienceOf(recipients, audience);
        if (chosen.Kind == AudienceKind.ChosenPeers)
        {
            // Says plainly when a chosen network is suspended or revoked, not just "not a peer".
            peers.RequirePeers(chosen.Networks.Where(Identifiers.IsNodeId));
        }
        var to = CallOuts.ResolveAudience(chosen, ActivePeersWithRegions());
        // By a digest of the audience when every recipient takes that (docs/adr/0030): each copy then stays small however many are sent.
        var toDigest = peers.AllHave(to, Protocol.Capabilities.AudienceDigest);
        var id = Identifiers.NewObjectId(identity.NodeId);
        var result = await origin.AppendAsync(id, _ => ObjectKind.CallOut, identity.NodeId, _ => [CallOuts.Publish(content, to, chosen, toDigest)], ct: ct,
            alongside: toFediverse ? (tx, state) => fediverse.Published(tx, (CallOutState)state) : null);
        // A copy: the warnings belong to this reply, not to the state the log holds.
        var published = ((CallOutState)result.State).Clone();
        published.Warnings.AddRange(peers.NotPeeredBack(published.Recipients));
        published.FediversePublic = toFediverse;
        return published;
    }

    /// <summary>The issuer changes what it asks; recipients get the new content and the list of what changed.</summary>
    public async Task<CallOutState> UpdateAsync(string callOutId, CallOutContent? content, CancellationToken ct)
    {
        return await AppendOwnAsync(callOutId, "update",
            c => CallOuts.Update(c, content ?? throw RuleViolation.Invalid("The update has no content.")), ct);
    }

    /// <summary>
    /// Closes this node's own call-outs whose expiry has come, through the same origin
    /// write path as a delegate's close, so recipients learn of it like any other event.
    /// </summary>
    public async Task<int> ExpireDueAsync(DateTimeOffset now, CancellationToken ct)
    {
        var closed = 0;
        foreach (var due in List().Where(c => c.OriginNode == identity.NodeId && !c.Closed && CallOuts.IsPastExpiry(c, now)))
        {
            try
            {
                await origin.AppendAsync(due.Id, _ => ObjectKind.CallOut, identity.NodeId, s => [CallOuts.Expire(Existing(s, due.Id), now)], ct: ct,
                    alongside: (tx, state) => fediverse.Changed(tx, (CallOutState)state));
                closed++;
            }
            catch (RuleViolation)
            {
                // Closed by its delegate, or updated to a later expiry, since we listed it.
            }
        }
        return closed;
    }

    /// <summary>The delegate's inbox: call-outs sent to this node, filtered, soonest window first.</summary>
    public IReadOnlyList<CallOutState> Inbox(InboxQuery query, DateTimeOffset now) =>
        InboxFilter.Apply(List(), query, identity.NodeId, store.PeerRegions().ToDictionary(r => r.NodeId, r => r.Region), now);

    /// <summary>Pledged actions as an iCalendar file.</summary>
    public CalendarExport ExportPledges(bool allNetworks, string ownName, DateTimeOffset now)
    {
        var names = store.ListPeers().ToDictionary(p => p.NodeId, p => p.Name);
        names[identity.NodeId] = ownName;
        return PledgeCalendar.Build(List(), identity.NodeId, allNetworks, id => names.GetValueOrDefault(id, Identifiers.Fingerprint(id)), now);
    }

    private static CallOutAudience AudienceOf(IReadOnlyCollection<string> recipients, CallOutAudience? audience)
    {
        var given = audience is not null && audience.Kind != AudienceKind.Unspecified;
        if (given && recipients.Count > 0)
        {
            throw RuleViolation.Invalid("Give either recipients or an audience, not both.");
        }
        if (given)
        {
            return audience!;
        }
        return recipients.Count > 0
            ? new CallOutAudience { Kind = AudienceKind.ChosenPeers, Networks = { recipients.Distinct() } }
            : new CallOutAudience { Kind = AudienceKind.AllPeers };
    }

    private IReadOnlyList<(string NodeId, string Region)> ActivePeersWithRegions()
    {
        var regions = store.PeerRegions().ToDictionary(r => r.NodeId, r => r.Region);
        return peers.ActivePeerIds().Select(id => (id, regions.GetValueOrDefault(id, ""))).ToList();
    }

    public async Task<CallOutState> CloseAsync(string callOutId, bool cancelled, string reason, CancellationToken ct)
    {
        return await AppendOwnAsync(callOutId, "close or cancel", c => CallOuts.Close(c, cancelled, reason), ct);
    }

    public Task<SubmissionReceipt> RespondAsync(string callOutId, CallOutResponse response, CancellationToken ct)
    {
        var callOut = Get(callOutId);
        // Check here so the delegate hears "no" at once; the issuer checks again and has the last word.
        CallOuts.CheckResponse(callOut, identity.NodeId, response, time.GetUtcNow());
        return origin.SubmitAsync(callOutId, new SubmissionPayload { CallOutResponse = response }, ct);
    }

    public CallOutState Get(string callOutId)
    {
        Identifiers.OriginOf(callOutId);
        return IssuerView(store.Read(callOutId, ObjectKind.CallOut, CallOutState.Parser) ?? throw NoCallOut(callOutId));
    }

    /// <summary>Whether this node's organisers posted the call-out to the fediverse (issue 19).</summary>
    public bool IsFediversePublic(string callOutId) => store.PublicCallOuts().Any(r => r.CallOutId == callOutId);

    public IReadOnlyList<CallOutState> List() =>
        store.ReadAll(ObjectKind.CallOut, CallOutState.Parser).Select(IssuerView).ToList();

    /// <summary>The issuer reads the report-backs sent to it only; every other node sees them as withheld.</summary>
    private CallOutState IssuerView(CallOutState callOut) => callOut.OriginNode != identity.NodeId
        ? callOut
        : CallOuts.WithIssuerOnly(callOut, key => store.GetLocalDetails(key) is { } bytes && vault.TryOpen(bytes, out var kept)
            ? CallOutResponse.Parser.ParseFrom(kept)
            // Locked: the issuer sees what every recipient sees, that a report-back was sent to it only.
            : null);

    /// <summary>
    /// The issuer's operations: one read of the call-out, inside the append's transaction,
    /// where the issuer's authority is checked before the domain decides.
    /// </summary>
    private async Task<CallOutState> AppendOwnAsync(string callOutId, string verb, Func<CallOutState, EventBody> decide, CancellationToken ct)
    {
        Identifiers.OriginOf(callOutId);
        var result = await origin.AppendAsync(callOutId, stored => stored is { Kind: ObjectKind.CallOut } ? ObjectKind.CallOut : throw NoCallOut(callOutId),
            identity.NodeId, s =>
            {
                var callOut = (CallOutState)s!;
                CallOuts.RequireIssuer(callOut, identity.NodeId, verb);
                return [decide(callOut)];
            }, ct: ct, alongside: (tx, state) => fediverse.Changed(tx, (CallOutState)state));
        return IssuerView((CallOutState)result.State);
    }

    private static RuleViolation NoCallOut(string callOutId) =>
        RuleViolation.NotFound($"No call-out {callOutId} here. If it was just published, it may still be on its way.");

    private static CallOutState Existing(Google.Protobuf.IMessage? state, string id) =>
        state as CallOutState ?? throw RuleViolation.NotFound($"No call-out {id} here.");
}
