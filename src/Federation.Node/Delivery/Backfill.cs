using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Identity;
using Federation.Node.Log;
using Federation.Node.Storage;
using Grpc.Core;

namespace Federation.Node.Delivery;

/// <summary>
/// Pulls an object's missing events from its origin and applies them through the
/// replica path. Nothing relies on a push having arrived.
/// </summary>
public sealed class Backfill(SqliteStore store, PeerClients clients, PeerKeys keys, ReplicaLog replica, ILogger<Backfill> log)
{
    public async Task RunAsync(string objectId, CancellationToken ct)
    {
        var origin = Identifiers.OriginOf(objectId);
        var peer = store.GetPeer(origin);
        if (peer is null)
        {
            log.LogWarning("Cannot backfill {Object}: its origin is not a peer", objectId);
            return;
        }
        var client = clients.For(peer.Address);
        while (!ct.IsCancellationRequested)
        {
            var after = store.GetObject(objectId)?.LastSequence ?? 0;
            FetchEventsResponse page;
            try
            {
                page = await client.FetchEventsAsync(new FetchEventsRequest { ObjectId = objectId, AfterSequence = after, Limit = 500 },
                    clients.Options(peer.NodeId, Methods.FetchEvents, ct));
            }
            catch (RpcException ex)
            {
                // Held events stay held; the next start-up or periodic pass tries again.
                log.LogInformation("Backfill of {Object} from {Peer} failed: {Status}", objectId, peer.Name, ex.Status.Detail);
                return;
            }
            if (page.Envelopes.Count == 0)
            {
                return;
            }
            var verified = page.Envelopes.Select(e => Envelopes.Verify(e, keys)).ToList();
            var result = await replica.ReceiveAsync(verified, ct);
            log.LogInformation("Backfilled {Applied} events of {Object} from {Peer} (now at {Seq} of {Last})",
                result.Applied, objectId, peer.Name, store.GetObject(objectId)?.LastSequence, page.LastSequence);
            if (result.Applied == 0)
            {
                return;
            }
        }
    }
}
