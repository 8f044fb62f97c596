using System.Collections.Concurrent;
using Federation.Contracts.V1;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Grpc;
using Grpc.Core;
using Polly.CircuitBreaker;

namespace Federation.Node.Delivery;

/// <summary>
/// Pulls from one peer everything it shares with this node that this node lacks: the
/// peer lists the objects it originates whose audience includes us (ListShared), with
/// their newest sequence, and every object we are behind on, or have never seen, is
/// fetched (FetchEvents). So a node that was away, or missed pushes, catches up by
/// itself; nothing relies on a push having arrived.
/// </summary>
public sealed class CatchUp(IFederationStore store, PeerCalls calls, Backfill backfill, CatchUpSignal signal, ILogger<CatchUp> log)
{
    public const uint PageSize = 200;
    private const int ProgressEvery = 50;

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _running = new();

    public async Task RunAsync(string peerId, CancellationToken ct)
    {
        var peer = store.GetPeer(peerId);
        if (peer is null || peer.State != PeerStates.Active)
        {
            return;
        }
        var gate = _running.GetOrAdd(peerId, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, ct))
        {
            return; // a pass from this peer is already running in this process
        }
        try
        {
            await PassAsync(peer, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Every object <paramref name="peer"/> lists with ListShared, page after page: the ones it
    /// originates and shares with this node, or, with <paramref name="yours"/>, this node's own
    /// that it holds copies of (<see cref="RecoverFromPeers"/>). A cursor that does not advance
    /// ends the listing as a failed call.
    /// </summary>
    public static async IAsyncEnumerable<SharedObject> ListSharedAsync(PeerCalls calls, PeerRecord peer, bool yours,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var cursor = "";
        do
        {
            var request = new ListSharedRequest { AfterCursor = cursor, Limit = PageSize, Yours = yours };
            var page = await calls.CallAsync(peer, Methods.ListShared, request, (c, r, o) => c.ListSharedAsync(r, o), ct);
            foreach (var shared in page.Objects)
            {
                yield return shared;
            }
            if (page.NextCursor.Length > 0 && string.CompareOrdinal(page.NextCursor, cursor) <= 0)
            {
                throw new RpcException(new Status(StatusCode.Internal, "the peer's ListShared cursor did not advance"));
            }
            cursor = page.NextCursor;
        }
        while (cursor.Length > 0);
    }

    /// <summary>
    /// How many objects one pass fetches at once. One object at a time left the cores idle
    /// through every round trip and every commit (issue 20 #2, profiled): with several, one
    /// page is verified while another is written and a third is on the wire, and concurrent
    /// writes share commits. Each object's own pages still go in order.
    /// </summary>
    public const int ObjectsAtOnce = 4;

    private async Task PassAsync(PeerRecord peer, CancellationToken ct)
    {
        int listed = 0, behind = 0, applied = 0, skipped = 0;
        string? error = null;
        try
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = ObjectsAtOnce, CancellationToken = ct };
            await Parallel.ForEachAsync(ListSharedAsync(calls, peer, yours: false, ct), options, async (shared, token) =>
            {
                Interlocked.Increment(ref listed);
                // A peer speaks only for the objects it originates.
                if (!Identifiers.TryOriginOf(shared.ObjectId, out var origin) || origin != peer.NodeId
                    || (store.GetObject(shared.ObjectId)?.LastSequence ?? 0) >= shared.LastSequence)
                {
                    return;
                }
                var count = Interlocked.Increment(ref behind);
                if (count == 1)
                {
                    log.LogInformation("Catching up from {Peer}: fetching what this node missed", peer.Name);
                }
                var (fetched, ok) = await FetchOneAsync(peer, shared.ObjectId, token);
                var total = Interlocked.Add(ref applied, fetched);
                Interlocked.Add(ref skipped, ok ? 0 : 1);
                if (count % ProgressEvery == 0)
                {
                    log.LogInformation("Catching up from {Peer}: {Behind} objects fetched so far, {Applied} events applied", peer.Name, count, total);
                }
            });

            // Events held behind a gap whose origin is this peer: fill those gaps too.
            foreach (var objectId in store.ObjectsWithHeldEvents().Where(id => id.StartsWith(peer.NodeId + ".", StringComparison.Ordinal)))
            {
                var (count, ok) = await FetchOneAsync(peer, objectId, ct);
                applied += count;
                skipped += ok ? 0 : 1;
            }
        }
        catch (Exception ex) when (ex is RpcException or BrokenCircuitException)
        {
            error = Backfill.Describe(ex);
        }
        await store.WriteAsync(tx =>
        {
            tx.RecordCatchUp(peer.NodeId, error);
            return true;
        }, CancellationToken.None);
        signal.SetUnreachable(peer.NodeId, error is not null);

        if (error is not null)
        {
            log.LogInformation("Catch-up from {Peer} stopped after {Behind} objects and {Applied} events: {Error}; it resumes on the next pass",
                peer.Name, behind, applied, error);
        }
        else if (behind > 0)
        {
            log.LogInformation("Caught up from {Peer}: {Listed} objects shared with this node, {Behind} were behind, {Applied} events applied{Skipped}",
                peer.Name, listed, behind, applied, skipped > 0 ? $", {skipped} could not be applied (see above)" : "");
        }
        else
        {
            log.LogDebug("Catch-up from {Peer}: nothing missing among {Listed} shared objects", peer.Name, listed);
        }
    }

    /// <summary>Fetches one object. A refusal of that one object is logged and skipped; a peer that is down ends the pass.</summary>
    private async Task<(int Applied, bool Ok)> FetchOneAsync(PeerRecord peer, string objectId, CancellationToken ct)
    {
        try
        {
            return (await backfill.FetchAsync(peer, objectId, ct), true);
        }
        catch (RpcException ex) when (WireRefusals.IsPermanent(ex.StatusCode))
        {
            // The peer refused to send it.
            log.LogWarning("Catch-up of {Object} from {Peer} refused: {Error}", objectId, peer.Name, Backfill.Describe(ex));
            return (0, false);
        }
        catch (RuleViolation ex)
        {
            // This node refused what the peer sent: an envelope or an event fails its checks.
            log.LogWarning("Catch-up of {Object} from {Peer}: an event breaks a rule and was not applied: {Error}", objectId, peer.Name, ex.Message);
            return (0, false);
        }
    }
}
