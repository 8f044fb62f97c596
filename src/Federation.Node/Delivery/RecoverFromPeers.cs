using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Domain;
using Grpc.Core;
using Polly.CircuitBreaker;

namespace Federation.Node.Delivery;

/// <summary>
/// A network on a new server with no backup, or with one older than the loss, takes back
/// what it originated from the copies its peers hold (issue 16 #4). Each peer lists the
/// objects of this network it holds (ListShared with <c>yours</c>); every one this node
/// holds less of is fetched and applied through the replica path, so every event is checked
/// against this network's own keys and the revocations this node holds (revoke a taken key
/// before recovering), in order, and what is here already is skipped. Whatever a peer could
/// not give is said, object by object; the next peer may have it.
/// </summary>
public sealed class RecoverFromPeers(IFederationStore store, PeerCalls calls, Backfill backfill, NodeIdentity identity, OriginLog origin, ILogger<RecoverFromPeers> log)
{
    public async Task<RecoverFromPeersResponse> RunAsync(CancellationToken ct)
    {
        var response = new RecoverFromPeersResponse();
        var recovered = new HashSet<string>();
        // Per object: the most any peer said it holds, and why a peer gave less. A peer whose
        // copy was purged gives nothing; another's may give all of it, and then all is well.
        var held = new Dictionary<string, ulong>();
        var shortOf = new Dictionary<string, List<string>>();
        // Per object, the peers that hold a copy: a call-out published to a digest of its audience learns its recipients from them.
        var holders = new Dictionary<string, List<string>>();
        foreach (var peer in store.ListPeers().Where(p => p.State == PeerStates.Active))
        {
            response.PeersAsked++;
            try
            {
                await foreach (var copy in CatchUp.ListSharedAsync(calls, peer, yours: true, ct))
                {
                    // A peer of a release without `yours` lists its own objects: not ours to take.
                    if (!Identifiers.TryOriginOf(copy.ObjectId, out var origin) || origin != identity.NodeId)
                    {
                        continue;
                    }
                    held[copy.ObjectId] = Math.Max(held.GetValueOrDefault(copy.ObjectId), copy.LastSequence);
                    (holders.TryGetValue(copy.ObjectId, out var those) ? those : holders[copy.ObjectId] = []).Add(peer.NodeId);
                    if (LastSequence(copy.ObjectId) >= copy.LastSequence)
                    {
                        continue;
                    }
                    var (applied, problem) = await FetchAsync(peer, copy.ObjectId, ct);
                    if (applied > 0)
                    {
                        recovered.Add(copy.ObjectId);
                        response.EventsRecovered += (ulong)applied;
                    }
                    if (problem is not null || LastSequence(copy.ObjectId) < copy.LastSequence)
                    {
                        (shortOf.TryGetValue(copy.ObjectId, out var why) ? why : shortOf[copy.ObjectId] = [])
                            .Add($"{peer.Name}: {problem ?? $"it holds up to event {copy.LastSequence} and gave up to {LastSequence(copy.ObjectId)}"}");
                    }
                }
            }
            catch (Exception ex) when (ex is RpcException or BrokenCircuitException)
            {
                response.Problems.Add($"{peer.Name} could not be asked: {Backfill.Describe(ex)}");
            }
        }
        await origin.LearnRecipientsAsync(holders, ct);
        foreach (var (objectId, why) in shortOf.Where(s => LastSequence(s.Key) < held[s.Key]))
        {
            response.Problems.Add($"{objectId} stays at event {LastSequence(objectId)} of {held[objectId]}: {string.Join("; ", why)}");
        }
        response.ObjectsRecovered = (uint)recovered.Count;
        log.LogWarning("Recovered {Objects} of this network's objects ({Events} events) from {Peers} peers' copies{Problems}",
            response.ObjectsRecovered, response.EventsRecovered, response.PeersAsked,
            response.Problems.Count > 0 ? $"; {response.Problems.Count} problems (solnet network recover-objects lists them)" : "");
        return response;
    }

    private ulong LastSequence(string objectId) => store.GetObject(objectId)?.LastSequence ?? 0;

    /// <summary>One object from one peer. A refusal of it (a forged or revoked signature, a conflict) is said and the rest goes on.</summary>
    private async Task<(int Applied, string? Problem)> FetchAsync(PeerRecord peer, string objectId, CancellationToken ct)
    {
        try
        {
            return (await backfill.FetchAsync(peer, objectId, ct, own: true), null);
        }
        catch (RuleViolation refused)
        {
            return (0, refused.Message);
        }
        catch (RpcException ex) when (Grpc.WireRefusals.IsPermanent(ex.StatusCode))
        {
            return (0, Backfill.Describe(ex));
        }
    }
}
