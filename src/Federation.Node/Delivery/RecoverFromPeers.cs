using Federation.Contracts.V1;
using Federation.Core.Identity;
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
public sealed class RecoverFromPeers(IFederationStore store, PeerCalls calls, Backfill backfill, NodeIdentity identity, ILogger<RecoverFromPeers> log)
{
    public async Task<RecoverFromPeersResponse> RunAsync(CancellationToken ct)
    {
        var response = new RecoverFromPeersResponse();
        var recovered = new HashSet<string>();
        foreach (var peer in store.ListPeers().Where(p => p.State == PeerStates.Active))
        {
            response.PeersAsked++;
            try
            {
                var cursor = "";
                do
                {
                    var request = new ListSharedRequest { AfterCursor = cursor, Limit = CatchUp.PageSize, Yours = true };
                    var page = await calls.CallAsync(peer, Methods.ListShared, request, (c, r, o) => c.ListSharedAsync(r, o), ct);
                    foreach (var copy in page.Objects)
                    {
                        if (!Identifiers.TryOriginOf(copy.ObjectId, out var origin) || origin != identity.NodeId
                            || (store.GetObject(copy.ObjectId)?.LastSequence ?? 0) >= copy.LastSequence)
                        {
                            continue;
                        }
                        var (applied, problem) = await FetchAsync(peer, copy.ObjectId, ct);
                        if (applied > 0)
                        {
                            recovered.Add(copy.ObjectId);
                            response.EventsRecovered += (ulong)applied;
                        }
                        if (problem is not null)
                        {
                            response.Problems.Add($"{copy.ObjectId} from {peer.Name}: {problem}");
                        }
                        else if ((store.GetObject(copy.ObjectId)?.LastSequence ?? 0) < copy.LastSequence)
                        {
                            response.Problems.Add($"{copy.ObjectId} from {peer.Name}: it holds up to event {copy.LastSequence}, and gave fewer");
                        }
                    }
                    if (page.NextCursor.Length > 0 && string.CompareOrdinal(page.NextCursor, cursor) <= 0)
                    {
                        throw new RpcException(new Status(StatusCode.Internal, "the peer's ListShared cursor did not advance"));
                    }
                    cursor = page.NextCursor;
                }
                while (cursor.Length > 0);
            }
            catch (Exception ex) when (ex is RpcException or BrokenCircuitException)
            {
                response.Problems.Add($"{peer.Name} could not be asked: {Backfill.Describe(ex)}");
            }
        }
        response.ObjectsRecovered = (uint)recovered.Count;
        log.LogWarning("Recovered {Objects} of this network's objects ({Events} events) from {Peers} peers' copies{Problems}",
            response.ObjectsRecovered, response.EventsRecovered, response.PeersAsked,
            response.Problems.Count > 0 ? $"; {response.Problems.Count} problems (solnet restore --from-peers lists them)" : "");
        return response;
    }

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
