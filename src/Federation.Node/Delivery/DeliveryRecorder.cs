using Federation.Core;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Core.Telemetry;
using Federation.Domain;
using Federation.Node.Grpc;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace Federation.Node.Delivery;

/// <summary>
/// Writes down how a delivery to a peer went: acknowledged (the cursor moves), refused
/// for good (the item is parked as a dead letter), or failing (when to try again, with
/// backoff and the peer's own hint).
/// </summary>
public sealed class DeliveryRecorder(
    IFederationStore store,
    CatchUpSignal catchUp,
    NodeTelemetry telemetry,
    IOptions<NodeOptions> options,
    ILogger<DeliveryRecorder> log)
{
    /// <summary>The peer took everything up to <paramref name="deliveredId"/>: move the cursor (and, when this run is done, let go of the lease).</summary>
    public async Task AcknowledgedAsync(PeerRecord peer, long deliveredId, CancellationToken ct, bool release = false)
    {
        var wasFailing = await store.WriteAsync(tx =>
        {
            var failing = tx.IsFailing(peer.NodeId);
            tx.Advance(peer.NodeId, deliveredId);
            // The direct road carries again: the peer is no longer reached by relay (docs/adr/0027).
            tx.DropRelayRoute(peer.NodeId);
            // It took our delivery, so it has added us: peering is mutual.
            tx.SetPeerState(peer.NodeId, PeerStates.Active, onlyFrom: PeerStates.Pending);
            if (release)
            {
                tx.ReleaseLease(peer.NodeId, DeliveryLeases.Owner);
                tx.Unring(peer.NodeId);
            }
            return failing;
        }, ct);
        if (wasFailing)
        {
            // The peer is back: it may have written while we could not reach it.
            log.LogInformation("Peer {Peer} answers again; delivery resumed", peer.Name);
            catchUp.Request(peer.NodeId);
        }
    }

    /// <summary>A refusal that retrying will not change: park the item where an operator sees it.</summary>
    public async Task ParkAsync(PeerRecord peer, OutboxItem item, StatusCode code, string detail, CancellationToken ct)
    {
        telemetry.DeliveryFailed(peer.NodeId, "refused", code.ToString());
        log.LogWarning("Peer {Peer} refused {Kind} {Object}#{Seq} for good ({Status}); parked as a dead letter",
            peer.Name, item.Kind, item.ObjectId, item.Sequence, code);
        await store.WriteAsync(tx =>
        {
            tx.DeadLetter(item, code.ToString(), Text.FromPeer(detail));
            return true;
        }, ct);
    }

    /// <summary>An item the peer cannot take until it has <paramref name="capability"/>: set aside with the reason, and the cursor moves past it (<see cref="CapabilityGate"/>).</summary>
    public async Task WaitAsync(PeerRecord peer, OutboxItem item, string capability, string reason, CancellationToken ct)
    {
        log.LogInformation("{Kind} {Object}#{Seq} waits for {Peer} to have capability {Capability}", item.Kind, item.ObjectId, item.Sequence, peer.Name, capability);
        await store.WriteAsync(tx =>
        {
            tx.DeadLetter(item, CapabilityGate.WaitingStatus(capability), reason);
            return true;
        }, ct);
    }

    /// <summary>The peer is failing (or its breaker is open): record when to try again.</summary>
    public async Task FailedAsync(PeerRecord peer, Exception outcome, CancellationToken ct)
    {
        switch (outcome)
        {
            case RpcException failed:
                telemetry.DeliveryFailed(peer.NodeId, "unavailable", failed.StatusCode.ToString());
                await FailAsync(peer.NodeId, peer.Name, $"{failed.StatusCode}: {Text.FromPeer(failed.Status.Detail)}", ct, WireRefusals.RetryAfter(failed));
                break;
            case BrokenCircuitException open:
                // No call was made: wait for the breaker, and do not grow the backoff for it.
                telemetry.DeliveryFailed(peer.NodeId, "circuit_open");
                var wait = open.RetryAfter is { } after && after > TimeSpan.Zero ? after : options.Value.PeerCircuitBreakDuration;
                await store.WriteAsync(tx =>
                {
                    tx.RecordFailure(peer.NodeId, "circuit open: the last calls to this peer failed", DateTimeOffset.UtcNow + wait, countAttempt: false);
                    return true;
                }, ct);
                break;
            default:
                throw new InvalidOperationException("Unexpected call outcome.", outcome);
        }
    }

    /// <summary>Delivery to <paramref name="peerId"/> failed: one more attempt, and the next one after a backoff (or the peer's hint, if longer).</summary>
    public async Task FailAsync(string peerId, string name, string error, CancellationToken ct, TimeSpan? hint = null)
    {
        var attempts = await store.WriteAsync(tx => tx.Attempts(peerId), ct);
        var delay = Backoff.Delay(attempts, options.Value.RetryBaseDelay, options.Value.RetryMaxDelay, hint);
        log.LogInformation("Delivery to {Peer} failed ({Error}); retrying in {Delay}", name, error, delay);
        await store.WriteAsync(tx =>
        {
            tx.RecordFailure(peerId, error, DateTimeOffset.UtcNow + delay);
            return true;
        }, ct);
    }
}
