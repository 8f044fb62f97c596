using Federation.Core;
using Federation.Core.Delivery;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Core.Telemetry;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// Delivers one peer's pending items in order, in batches, with one batch in flight
/// (a lease in the database) and the cursor advanced only after the peer acknowledges.
/// A crash after sending and before advancing re-sends; the receiver dedupes.
/// This is the run loop; <see cref="PeerSender"/> sends, <see cref="DeliveryLeases"/> holds
/// the lease, and <see cref="DeliveryRecorder"/> writes down how each delivery went.
/// </summary>
public sealed class PeerDelivery(
    IFederationStore store,
    DeliveryLeases leases,
    PeerSender sender,
    DeliveryRecorder recorder,
    CapabilityGate gate,
    SealedEnvelopes sealedEnvelopes,
    OutboxSignal outbox,
    NodeTelemetry telemetry,
    Federation.Core.Identity.NodeIdentity identity,
    IOptions<NodeOptions> options)
{
    // How long one doorbell may go on delivering before it lets other work have a turn.
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);

    public async Task RunAsync(string peerId, CancellationToken ct)
    {
        if (!outbox.TryBeginRun(peerId))
        {
            return; // this process is delivering to that peer already; that run goes round once more
        }
        try
        {
            while (true)
            {
                var ended = await RunOnceAsync(peerId, ct);
                if (ct.IsCancellationRequested || outbox.TryEndRun(peerId))
                {
                    break;
                }
                // A doorbell came while this run was under way.
                if (ended == Ended.Stopped)
                {
                    // The peer failed, or another holds its lease: only note the ring answered, so
                    // the dispatcher rings again when the peer is due (its backoff decides when).
                    await store.WriteAsync(tx =>
                    {
                        tx.Unring(peerId);
                        return true;
                    }, ct);
                    break;
                }
            }
        }
        finally
        {
            outbox.EndRun(peerId);
        }
    }

    /// <summary>Delivers what is queued, then lets go of the lease and notes the doorbell answered.</summary>
    private async Task<Ended> RunOnceAsync(string peerId, CancellationToken ct)
    {
        var ended = Ended.Stopped;
        var pokes = outbox.Pokes;
        try
        {
            ended = await DeliverAsync(peerId, ct);
            return ended;
        }
        finally
        {
            try
            {
                if (ended != Ended.Released)
                {
                    await store.WriteAsync(tx =>
                    {
                        tx.ReleaseLease(peerId, DeliveryLeases.Owner);
                        tx.Unring(peerId);
                        return true;
                    }, CancellationToken.None);
                }
                // Rows committed while this run was under way were poked about while it held
                // the lease, so the dispatcher passed this peer over: poke again now that the
                // lease is gone, or they would wait for the next poll. A run that ended early
                // (budget spent, peer failing) leaves rows too. Otherwise there is nothing new
                // to find: a call-out to a thousand networks used to wake a full dispatch pass
                // (a scan of the outbox) after each of its thousand deliveries.
                if (ended == Ended.Stopped || outbox.Pokes != pokes)
                {
                    outbox.Poke();
                }
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // The database is unreachable: the dispatcher rings again once it answers.
                outbox.DatabaseTrouble();
                throw;
            }
        }
    }

    private enum Ended
    {
        /// <summary>The queue was empty.</summary>
        Emptied,
        /// <summary>The queue was emptied, and the last acknowledgement let go of the lease.</summary>
        Released,
        /// <summary>The peer failed or cannot be sent to, another run holds its lease, or the budget was spent.</summary>
        Stopped,
    }

    /// <summary>Delivers until the queue is empty, the peer fails or the budget is spent.</summary>
    private async Task<Ended> DeliverAsync(string peerId, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        while (!ct.IsCancellationRequested && DateTimeOffset.UtcNow - started < Budget)
        {
            if (!await leases.RenewAsync(peerId, ct))
            {
                return Ended.Stopped; // someone else has a batch in flight for this peer
            }
            var peer = store.GetPeer(peerId);
            if (peer is null)
            {
                // Rows addressed to a node this one has not added yet wait until it is added.
                telemetry.DeliveryFailed(peerId, "not_a_peer");
                await recorder.FailAsync(peerId, peerId, "not a peer: add it with its address and fingerprint", ct);
                return Ended.Stopped;
            }
            if (!PeerStates.Reachable(peer.State))
            {
                return Ended.Stopped; // suspended or revoked: nothing is sent
            }
            var batch = store.LoadBatch(peerId, options.Value.DeliveryBatchSize, identity.Algorithm);
            // A batch short of the limit was all there was. Its acknowledgement then releases the
            // lease in the same write, instead of renewing it to find the queue empty and
            // releasing it after: two writes and two reads fewer per delivery, which is most of
            // what a call-out to a thousand networks costs (docs/performance.md). Rows that
            // arrive meanwhile are found by the dispatcher, which RunAsync wakes.
            var last = batch.Count < options.Value.DeliveryBatchSize;
            if (batch.Count == 0)
            {
                return Ended.Emptied;
            }
            var loaded = batch;
            batch = sealedEnvelopes.Open(loaded, out var sealedAt);
            if (sealedAt == 0)
            {
                // Locked: a sealed item (a participants-only event, a confidential submission) waits for the unlock, and the rest goes (adr/0025).
                var what = loaded[0].Kind == OutboxKind.Event ? "participants-only event" : "confidential submission";
                await recorder.WaitAsync(peer, loaded[0], SealedEnvelopes.Unlock,
                    $"Waits for an operator to unlock this node (solnet unlock): this {what} of {loaded[0].ObjectId} rests sealed. It goes back in the queue by itself at the unlock.", ct);
                continue;
            }
            if (sealedAt > 0)
            {
                last = false;
            }
            if (gate.FirstWaiting(peerId, batch) is var (index, capability))
            {
                if (index == 0)
                {
                    // Not sent to fail: set aside until the peer has what it needs, then the rest goes.
                    await recorder.WaitAsync(peer, batch[0], capability, gate.Reason(peer, batch[0], capability), ct);
                    continue;
                }
                batch = batch.Take(index).ToList();
                last = false;
            }
            var sent = await sender.SendAsync(peer, batch, ct, releaseAfter: last);
            if (sent == PeerSender.Sent.Failing)
            {
                return Ended.Stopped;
            }
            if (sent == PeerSender.Sent.AllAndReleased)
            {
                return Ended.Released;
            }
        }
        return Ended.Stopped;
    }
}
