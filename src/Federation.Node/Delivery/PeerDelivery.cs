using Federation.Contracts.V1;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Log;
using Federation.Node.Observability;
using Federation.Node.Storage;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace Federation.Node.Delivery;

/// <summary>
/// Delivers one peer's pending items in order, in batches, with one batch in flight
/// (a lease in the database) and the cursor advanced only after the peer acknowledges.
/// A crash after sending and before advancing re-sends; the receiver dedupes.
/// </summary>
public sealed class PeerDelivery(
    IFederationStore store,
    PeerCalls calls,
    OutboxSignal outbox,
    CatchUpSignal catchUp,
    NodeTelemetry telemetry,
    IOptions<NodeOptions> options,
    ILogger<PeerDelivery> log)
{
    /// <summary>Who holds a lease: this machine, this process, this run.</summary>
    public static readonly string Owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    // How long one doorbell may go on delivering before it lets other work have a turn.
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);

    // The most a peer may ask us to pause; a larger hint (or a garbled one) is capped.
    private static readonly TimeSpan MaxHint = TimeSpan.FromDays(1);

    // Covers one call and the write after it; renewed before every call.
    private TimeSpan Lease => options.Value.PeerCallTimeout * 2 + TimeSpan.FromSeconds(5);

    public async Task RunAsync(string peerId, CancellationToken ct)
    {
        if (!outbox.TryBeginRun(peerId))
        {
            return; // this process is delivering to that peer already; that run ends by unringing
        }
        try
        {
            await DeliverAsync(peerId, ct);
        }
        finally
        {
            try
            {
                await store.WriteAsync(tx =>
                {
                    tx.ReleaseLease(peerId, Owner);
                    tx.Unring(peerId);
                    return true;
                }, CancellationToken.None);
                // Rows committed while this run was finishing would otherwise wait for the next poll.
                outbox.Poke();
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // The database is unreachable: the dispatcher rings again once it answers.
                outbox.DatabaseTrouble();
                throw;
            }
            finally
            {
                outbox.EndRun(peerId);
            }
        }
    }

    private async Task DeliverAsync(string peerId, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        while (!ct.IsCancellationRequested && DateTimeOffset.UtcNow - started < Budget)
        {
            if (!await RenewLeaseAsync(peerId, ct))
            {
                return; // someone else has a batch in flight for this peer
            }
            var peer = store.GetPeer(peerId);
            if (peer is null)
            {
                // Rows addressed to a node this one has not added yet wait until it is added.
                telemetry.DeliveryFailed(peerId, "not_a_peer");
                await FailAsync(peerId, peerId, "not a peer: add it with its address and fingerprint", ct);
                return;
            }
            if (!PeerDirectory.Reachable(peer.State))
            {
                return; // suspended or revoked: nothing is sent
            }
            var batch = store.LoadBatch(peerId, options.Value.DeliveryBatchSize);
            if (batch.Count == 0 || !await SendAsync(peer, batch, ct))
            {
                return;
            }
        }
    }

    private Task<bool> RenewLeaseAsync(string peerId, CancellationToken ct) =>
        store.WriteAsync(tx => tx.TryLease(peerId, Owner, DateTimeOffset.UtcNow + Lease), ct);

    /// <summary>Sends a batch as runs of events (one Deliver call each) and single submissions. False when the peer is failing.</summary>
    private async Task<bool> SendAsync(PeerRecord peer, IReadOnlyList<OutboxItem> batch, CancellationToken ct)
    {
        var i = 0;
        while (i < batch.Count)
        {
            var run = batch[i].Kind == OutboxKind.Event
                ? batch.Skip(i).TakeWhile(x => x.Kind == OutboxKind.Event).ToList()
                : [batch[i]];
            if (i > 0 && !await RenewLeaseAsync(peer.NodeId, ct))
            {
                return false;
            }
            var outcome = await CallAsync(peer, run, ct);
            switch (outcome)
            {
                case null:
                    telemetry.Delivered(peer.NodeId, KindOf(run), run.Count);
                    var wasFailing = await store.WriteAsync(tx =>
                    {
                        var failing = tx.IsFailing(peer.NodeId);
                        tx.Advance(peer.NodeId, run[^1].Id);
                        // It took our delivery, so it has added us: peering is mutual.
                        tx.SetPeerState(peer.NodeId, PeerDirectory.Active, onlyFrom: PeerDirectory.Pending);
                        return failing;
                    }, ct);
                    if (wasFailing)
                    {
                        // The peer is back: it may have written while we could not reach it.
                        log.LogInformation("Peer {Peer} answers again; delivery resumed", peer.Name);
                        catchUp.Request(peer.NodeId);
                    }
                    break;
                case RpcException refused when IsPermanent(refused.StatusCode) && !Envelopes.IsClockRefusal(refused):
                    if (run.Count > 1)
                    {
                        // Which item was refused? Send them one at a time; the refused one is parked.
                        foreach (var single in run)
                        {
                            if (!await SendAsync(peer, [single], ct))
                            {
                                return false;
                            }
                        }
                    }
                    else
                    {
                        telemetry.DeliveryFailed(peer.NodeId, "refused", refused.StatusCode.ToString());
                        log.LogWarning("Peer {Peer} refused {Kind} {Object}#{Seq} for good ({Status}); parked as a dead letter",
                            peer.Name, run[0].Kind, run[0].ObjectId, run[0].Sequence, refused.StatusCode);
                        await store.WriteAsync(tx =>
                        {
                            tx.DeadLetter(run[0], refused.StatusCode.ToString(), refused.Status.Detail);
                            return true;
                        }, ct);
                    }
                    break;
                case RpcException failed:
                    telemetry.DeliveryFailed(peer.NodeId, "unavailable", failed.StatusCode.ToString());
                    await FailAsync(peer.NodeId, peer.Name, $"{failed.StatusCode}: {failed.Status.Detail}", ct, RetryAfter(failed));
                    return false;
                case BrokenCircuitException open:
                    // No call was made: wait for the breaker, and do not grow the backoff for it.
                    telemetry.DeliveryFailed(peer.NodeId, "circuit_open");
                    var wait = open.RetryAfter is { } after && after > TimeSpan.Zero ? after : options.Value.PeerCircuitBreakDuration;
                    await store.WriteAsync(tx =>
                    {
                        tx.RecordFailure(peer.NodeId, "circuit open: the last calls to this peer failed", DateTimeOffset.UtcNow + wait, countAttempt: false);
                        return true;
                    }, ct);
                    return false;
                default:
                    throw new InvalidOperationException("Unexpected call outcome.", outcome);
            }
            i += run.Count;
        }
        return true;
    }

    /// <summary>One call for a run of items: null when the peer acknowledged it.</summary>
    private async Task<Exception?> CallAsync(PeerRecord peer, IReadOnlyList<OutboxItem> run, CancellationToken ct)
    {
        // The gRPC client sends this span's context (traceparent), so the peer's spans join the trace.
        using var span = NodeTelemetry.StartDelivery(peer.NodeId, KindOf(run), run.Count);
        try
        {
            if (run[0].Kind == OutboxKind.Event)
            {
                var request = new DeliverRequest();
                request.Envelopes.AddRange(run.Select(x => Envelope.Parser.ParseFrom(x.Body)));
                await calls.CallAsync(peer, Methods.Deliver, (c, o) => c.DeliverAsync(request, o), ct);
            }
            else
            {
                var request = new SubmitRequest { Submission = SignedSubmission.Parser.ParseFrom(run[0].Body) };
                await calls.CallAsync(peer, Methods.Submit, (c, o) => c.SubmitAsync(request, o), ct);
            }
            return null;
        }
        catch (Exception ex) when (ex is RpcException or BrokenCircuitException)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex is RpcException r ? r.StatusCode.ToString() : "circuit open");
            return ex;
        }
    }

    private static string KindOf(IReadOnlyList<OutboxItem> run) => run[0].Kind == OutboxKind.Event ? "events" : "submission";

    /// <summary>Refusals that will not change by retrying: park them, never retry them.</summary>
    public static bool IsPermanent(StatusCode code) => code is StatusCode.InvalidArgument or StatusCode.PermissionDenied
        or StatusCode.Unauthenticated or StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.AlreadyExists
        or StatusCode.OutOfRange or StatusCode.Unimplemented;

    private async Task FailAsync(string peerId, string name, string error, CancellationToken ct, TimeSpan? hint = null)
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

    /// <summary>
    /// A peer that is overloaded answers RESOURCE_EXHAUSTED and may say, in the
    /// <c>retry-after-ms</c> trailer, how long to leave it alone. That is honoured (up to a day).
    /// </summary>
    public static TimeSpan? RetryAfter(RpcException ex)
    {
        if (ex.StatusCode != StatusCode.ResourceExhausted)
        {
            return null;
        }
        var value = ex.Trailers.GetValue("retry-after-ms");
        return long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? ms >= MaxHint.TotalMilliseconds ? MaxHint : TimeSpan.FromMilliseconds(ms)
            : null;
    }

    /// <summary>
    /// True when <paramref name="owner"/> names a process on this machine that is no
    /// longer running: its lease can be released at once. Other machines' owners cannot be
    /// checked from here; their leases simply expire.
    /// </summary>
    public static bool OwnerIsGone(string owner)
    {
        var parts = owner.Split('/');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid))
        {
            return false;
        }
        if (pid == Environment.ProcessId)
        {
            // This process: gone if it is an earlier run (a container restarted with the same pid).
            return owner != Owner;
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
    }
}

/// <summary>Full gRPC method names, as signed in peer call metadata.</summary>
public static class Methods
{
    public const string Identify = "/federation.v1.PeerService/Identify";
    public const string Deliver = "/federation.v1.PeerService/Deliver";
    public const string Submit = "/federation.v1.PeerService/Submit";
    public const string FetchEvents = "/federation.v1.PeerService/FetchEvents";
    public const string Hello = "/federation.v1.PeerService/Hello";
    public const string ListShared = "/federation.v1.PeerService/ListShared";
}

/// <summary>Exponential backoff with jitter; the timing is kept in the database, not in a delayed message.</summary>
public static class Backoff
{
    public static TimeSpan Delay(int attempts, TimeSpan baseDelay, TimeSpan max, TimeSpan? peerHint = null)
    {
        var exp = Math.Min(attempts, 30);
        var ms = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, exp), max.TotalMilliseconds);
        // Full jitter in [0.5, 1.5) spreads retries so a recovered peer is not hit by everyone at once.
        var jittered = TimeSpan.FromMilliseconds(ms * (0.5 + Random.Shared.NextDouble()));
        return peerHint is { } hint && hint > jittered ? hint : jittered;
    }
}
