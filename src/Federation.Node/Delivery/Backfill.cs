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
        while (!ct.IsCancellationRequested)
        {
            var after = store.GetObject(objectId)?.LastSequence ?? 0;
            var page = await calls.CallAsync(origin, Methods.FetchEvents, new FetchEventsRequest { ObjectId = objectId, AfterSequence = after, Limit = PageSize },
                (c, r, o) => c.FetchEventsAsync(r, o), ct);
            if (page.Envelopes.Count == 0)
            {
                break;
            }
            var verified = replica.Verify(page.Envelopes, own);
            var result = await replica.ReceiveAsync(verified, ct, own);
            applied += result.Applied;
            var now = store.GetObject(objectId)?.LastSequence ?? 0;
            log.LogInformation("Fetched {Applied} events of {Object} from {Peer} (now at {Seq} of {Last})",
                result.Applied, objectId, origin.Name, now, page.LastSequence);
            if (result.Applied == 0 || now >= page.LastSequence)
            {
                break;
            }
        }
        return applied;
    }

    public static string Describe(Exception ex) => ex switch
    {
        RpcException r => $"{r.StatusCode}: {Text.FromPeer(r.Status.Detail)}",
        RuleViolation v => $"{WireRefusals.StatusOf(v.Kind)}: {v.Message}",
        BrokenCircuitException => "circuit open: the last calls to this peer failed",
        _ => ex.Message,
    };
}
