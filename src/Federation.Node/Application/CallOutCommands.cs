using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Identity;
using Federation.Node.Log;
using Federation.Node.Storage;

namespace Federation.Node.Application;

/// <summary>What a delegate can do with call-outs; each write goes through the origin log or a submission.</summary>
public sealed class CallOutCommands(SqliteStore store, OriginLog origin, PeerDirectory peers, NodeIdentity identity)
{
    public async Task<CallOutState> PublishAsync(CallOutContent content, IReadOnlyCollection<string> recipients, CancellationToken ct)
    {
        CallOuts.CheckContent(content);
        var to = recipients.Count > 0 ? recipients.Distinct().ToList() : peers.ActivePeerIds();
        if (to.Count == 0)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Recipients, "This node has no peers yet: add one before publishing a call-out.");
        }
        peers.RequirePeers(to);
        var id = Identifiers.NewObjectId(identity.NodeId);
        var result = await origin.AppendAsync(id, ObjectKind.CallOut, identity.NodeId, _ => [CallOuts.Publish(content, to)], ct: ct);
        return (CallOutState)result.State;
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
        CallOuts.CheckResponse(callOut, identity.NodeId, response);
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
