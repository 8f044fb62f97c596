using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Grpc;
using Grpc.Core;
using Polly.CircuitBreaker;

namespace Federation.Node.Delivery;

/// <summary>
/// Pulls an object's missing events from its origin and applies them through the
/// replica path. Nothing relies on a push having arrived.
/// </summary>
public sealed class Backfill(IFederationStore store, PeerCalls calls, ReplicaLog replica, ILogger<Backfill> log)
{
    public const uint PageSize = 500;

    /// <summary>Fills a gap noticed on delivery. A failure waits for the next catch-up pass from the origin.</summary>
    public async Task RunAsync(string objectId, CancellationToken ct)
    {
        var peer = Identifiers.TryOriginOf(objectId, out var origin) ? store.GetPeer(origin) : null;
        if (peer is null)
        {
            log.LogWarning("Cannot backfill {Object}: its origin is not a peer", objectId);
            return;
        }
        try
        {
            await FetchAsync(peer, objectId, ct);
        }
        catch (Exception ex) when (ex is RpcException or BrokenCircuitException or RuleViolation)
        {
            // Held events stay held; the next catch-up pass from the origin tries again.
            log.LogInformation("Backfill of {Object} from {Peer} failed: {Error}", objectId, peer.Name, Describe(ex));
        }
    }

    /// <summary>
    /// Fetches and applies, page by page, every event of <paramref name="objectId"/> after
    /// the last one this node holds. Returns how many were applied. Throws what the origin
    /// answered (an <see cref="RpcException"/>) or, when this node's own checks refuse an
    /// envelope or event it sent, the <see cref="RuleViolation"/>.
    /// </summary>
    /// <param name="own">The object is this node's own, fetched back from <paramref name="origin"/>'s copy (issue 16 #4).</param>
    public async Task<int> FetchAsync(PeerRecord origin, string objectId, CancellationToken ct, bool own = false)
    {
        var applied = 0;
        var after = store.GetObject(objectId)?.LastSequence ?? 0;
        var fetching = FetchPageAsync(origin, objectId, after, ct);
        while (!ct.IsCancellationRequested)
        {
            var page = await fetching;
            if (page.Envelopes.Count == 0)
            {
                break;
            }
            // The next page is asked for before this one is checked and written, so the round
            // trip overlaps the work here (issue 20 #2). It is used only if this page lands
            // where it ends; otherwise (a refusal, or a write by another path in between) it
            // is dropped and asked again from where the log stands.
            var pageEnd = page.Envelopes[^1].Sequence;
            var full = page.Envelopes.Count >= PageSize && pageEnd < page.LastSequence;
            Task<FetchEventsResponse>? next = full ? FetchPageAsync(origin, objectId, pageEnd, ct) : null;
            ReceiveResult result;
            try
            {
                var verified = replica.Verify(page.Envelopes, own);
                result = await replica.ReceiveAsync(verified, ct, own);
            }
            catch
            {
                Forget(next);
                throw;
            }
            applied += result.Applied;
            var now = store.GetObject(objectId)?.LastSequence ?? 0;
            log.LogInformation("Fetched {Applied} events of {Object} from {Peer} (now at {Seq} of {Last})",
                result.Applied, objectId, origin.Name, now, page.LastSequence);
            if (result.Applied == 0 || now >= page.LastSequence)
            {
                Forget(next);
                break;
            }
            if (next is null || now != pageEnd)
            {
                Forget(next);
                next = FetchPageAsync(origin, objectId, now, ct);
            }
            fetching = next;
        }
        return applied;
    }

    private Task<FetchEventsResponse> FetchPageAsync(PeerRecord origin, string objectId, ulong after, CancellationToken ct) =>
        calls.CallAsync(origin, Methods.FetchEvents, new FetchEventsRequest { ObjectId = objectId, AfterSequence = after, Limit = PageSize },
            (c, r, o) => c.FetchEventsAsync(r, o), ct);

    /// <summary>A page asked for ahead and not needed: its failure, if it fails, is not this fetch's.</summary>
    private static void Forget(Task? fetch) => fetch?.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);

    public static string Describe(Exception ex) => ex switch
    {
        RpcException r => $"{r.StatusCode}: {Text.FromPeer(r.Status.Detail)}",
        RuleViolation v => $"{WireRefusals.StatusOf(v.Kind)}: {v.Message}",
        BrokenCircuitException => "circuit open: the last calls to this peer failed",
        _ => ex.Message,
    };
}
