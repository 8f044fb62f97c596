using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Core.Queries;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Core.Commands;

/// <summary>What a delegate can do with call-outs; each write goes through the origin log or a submission.</summary>
public sealed class CallOutCommands(IFederationStore store, OriginLog origin, PeerRoster peers, NodeIdentity identity)
{
    public async Task<CallOutState> PublishAsync(CallOutContent content, IReadOnlyCollection<string> recipients, CallOutAudience? audience, CancellationToken ct)
    {
        CallOuts.CheckContent(content);
        var chosen = AudienceOf(recipients, audience);
        if (chosen.Kind == AudienceKind.ChosenPeers)
        {
            // Says plainly when a chosen network is suspended or revoked, not just "not a peer".
            peers.RequirePeers(chosen.Networks.Where(Identifiers.IsNodeId));
        }
        var to = CallOuts.ResolveAudience(chosen, ActivePeersWithRegions());
        var id = Identifiers.NewObjectId(identity.NodeId);
        var result = await origin.AppendAsync(id, ObjectKind.CallOut, identity.NodeId, _ => [CallOuts.Publish(content, to, chosen)], ct: ct);
        return (CallOutState)result.State;
    }

    /// <summary>The issuer changes what it asks; recipients get the new content and the list of what changed.</summary>
    public async Task<CallOutState> UpdateAsync(string callOutId, CallOutContent? content, CancellationToken ct)
    {
        RequireOwn(callOutId, "update");
        var result = await origin.AppendAsync(callOutId, ObjectKind.CallOut, identity.NodeId,
            s => [CallOuts.Update(Existing(s, callOutId), content ?? throw RuleViolation.Invalid("The update has no content."))], ct: ct);
        return (CallOutState)result.State;
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
                await origin.AppendAsync(due.Id, ObjectKind.CallOut, identity.NodeId, s => [CallOuts.Expire(Existing(s, due.Id), now)], ct: ct);
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
        RequireOwn(callOutId, "close or cancel");
        var result = await origin.AppendAsync(callOutId, ObjectKind.CallOut, identity.NodeId,
            s => [CallOuts.Close(Existing(s, callOutId), cancelled, reason)], ct: ct);
        return (CallOutState)result.State;
    }

    public Task<SubmissionReceipt> RespondAsync(string callOutId, CallOutResponse response, CancellationToken ct)
    {
        var callOut = Get(callOutId);
        if (callOut.OriginNode == identity.NodeId)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Recipients, "This node issued the call-out; responses come from the networks it was sent to.");
        }
        // Check here so the delegate hears "no" at once; the issuer checks again and has the last word.
        CallOuts.CheckResponse(callOut, identity.NodeId, response, DateTimeOffset.UtcNow);
        return origin.SubmitAsync(callOutId, new SubmissionPayload { CallOutResponse = response }, ct);
    }

    public CallOutState Get(string callOutId)
    {
        Identifiers.OriginOf(callOutId);
        var stored = store.GetObject(callOutId);
        return stored is { Kind: ObjectKind.CallOut }
            ? CallOutState.Parser.ParseFrom(stored.State)
            : throw RuleViolation.NotFound($"No call-out {callOutId} here. If it was just published, it may still be on its way.");
    }

    public IReadOnlyList<CallOutState> List() =>
        store.ListObjects(ObjectKind.CallOut).Select(o => CallOutState.Parser.ParseFrom(o.State)).ToList();

    private void RequireOwn(string callOutId, string verb)
    {
        if (Get(callOutId).OriginNode != identity.NodeId)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.OriginAuthority,
                $"Origin authority: only the issuing network can {verb} this call-out.");
        }
    }

    private static CallOutState Existing(Google.Protobuf.IMessage? state, string id) =>
        state as CallOutState ?? throw RuleViolation.NotFound($"No call-out {id} here.");
}
