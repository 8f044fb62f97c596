using System.Runtime.CompilerServices;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Delivery;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Core.Telemetry;
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
                        tx.ReleaseLease(peerId, Owner);
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
            if (!await RenewLeaseAsync(peerId, ct))
            {
                return Ended.Stopped; // someone else has a batch in flight for this peer
            }
            var peer = store.GetPeer(peerId);
            if (peer is null)
            {
                // Rows addressed to a node this one has not added yet wait until it is added.
                telemetry.DeliveryFailed(peerId, "not_a_peer");
                await FailAsync(peerId, peerId, "not a peer: add it with its address and fingerprint", ct);
                return Ended.Stopped;
            }
            if (!PeerStates.Reachable(peer.State))
            {
                return Ended.Stopped; // suspended or revoked: nothing is sent
            }
            var batch = store.LoadBatch(peerId, options.Value.DeliveryBatchSize);
            // A batch short of the limit was all there was. Its acknowledgement then releases the
            // lease in the same write, instead of renewing it to find the queue empty and
            // releasing it after: two writes and two reads fewer per delivery, which is most of
            // what a call-out to a thousand networks costs (README "Performance"). Rows that
            // arrive meanwhile are found by the dispatcher, which RunAsync wakes.
            var last = batch.Count < options.Value.DeliveryBatchSize;
            if (batch.Count == 0)
            {
                return Ended.Emptied;
            }
            var sent = await SendAsync(peer, batch, ct, releaseAfter: last);
            if (sent == Sent.Failing)
            {
                return Ended.Stopped;
            }
            if (sent == Sent.AllAndReleased)
            {
                return Ended.Released;
            }
        }
        return Ended.Stopped;
    }

    private enum Sent
    {
        Failing,
        All,
        AllAndReleased,
    }

    private Task<bool> RenewLeaseAsync(string peerId, CancellationToken ct) =>
        store.WriteAsync(tx => tx.TryLease(peerId, Owner, DateTimeOffset.UtcNow + Lease), ct);

    /// <summary>
    /// Sends a batch as runs of events (one Deliver call each) and runs of submissions (one
    /// SubmitStream call each, or one Submit call for a single one). False when the peer is failing.
    /// </summary>
    private async Task<Sent> SendAsync(PeerRecord peer, IReadOnlyList<OutboxItem> batch, CancellationToken ct, bool releaseAfter = false)
    {
        var released = false;
        var i = 0;
        while (i < batch.Count)
        {
            var kind = batch[i].Kind;
            var run = batch.Skip(i).TakeWhile(x => x.Kind == kind).ToList();
            if (i > 0 && !await RenewLeaseAsync(peer.NodeId, ct))
            {
                return Sent.Failing;
            }
            if (kind == OutboxKind.Submission && run.Count > 1)
            {
                if (!await SubmitRunAsync(peer, run, ct))
                {
                    return Sent.Failing;
                }
                i += run.Count;
                continue;
            }
            if (kind == OutboxKind.Submission)
            {
                run = [batch[i]];
            }
            var outcome = await CallAsync(peer, run, ct);
            switch (outcome)
            {
                case null:
                    telemetry.Delivered(peer.NodeId, KindOf(run), run.Count);
                    released = releaseAfter && i + run.Count == batch.Count;
                    await AcknowledgedAsync(peer, run[^1].Id, ct, released);
                    break;
                case RpcException refused when Parks(refused):
                    if (run.Count > 1)
                    {
                        // Which item was refused? Send them one at a time; the refused one is parked.
                        foreach (var single in run)
                        {
                            if (await SendAsync(peer, [single], ct) == Sent.Failing)
                            {
                                return Sent.Failing;
                            }
                        }
                    }
                    else
                    {
                        await ParkAsync(peer, run[0], refused.StatusCode, refused.Status.Detail, ct);
                    }
                    break;
                default:
                    await FailedAsync(peer, outcome, ct);
                    return Sent.Failing;
            }
            i += run.Count;
        }
        return released ? Sent.AllAndReleased : Sent.All;
    }

    /// <summary>
    /// Several submissions for their origin go on one SubmitStream call: authenticated once,
    /// sequenced in order, and each answered on its own, so the origin can commit many
    /// together. An answer settles its own submission (recorded, or refused for good and
    /// parked) exactly as Submit's answer would (see <see cref="Parks"/>: a clock refusal is
    /// retried, not parked); the first submission that failed for now, or was not answered,
    /// stops the run there, and the cursor stays on it. False when the peer is failing.
    /// </summary>
    private async Task<bool> SubmitRunAsync(PeerRecord peer, IReadOnlyList<OutboxItem> run, CancellationToken ct)
    {
        var answers = new List<SubmitStreamResponse>(run.Count);
        Exception? broke = null;
        // The gRPC client sends this span's context (traceparent), so the peer's spans join the trace.
        using (var span = NodeTelemetry.StartDelivery(peer.NodeId, KindOf(run), run.Count))
        {
            try
            {
                await calls.ExchangeAsync(peer, Methods.SubmitStream, async (client, options) =>
                {
                    using var call = client.SubmitStream(options);
                    var sending = SendAllAsync(call.RequestStream, run);
                    await foreach (var answer in call.ResponseStream.ReadAllAsync(options.CancellationToken))
                    {
                        answers.Add(answer);
                    }
                    await sending;
                    return true;
                }, ct);
            }
            catch (Exception ex) when (ex is RpcException or BrokenCircuitException)
            {
                span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex is RpcException r ? r.StatusCode.ToString() : "circuit open");
                broke = ex; // what was answered before the call broke still counts
            }
        }
        if (broke is RpcException whole && answers.Count == 0 && Parks(whole))
        {
            // A peer that has no SubmitStream yet, or a call refused as a whole: one Submit call
            // each, as before, so each refusal is parked with its own submission. (A clock
            // refusal of the whole call is not in this case: it is retried below, like Submit's.)
            foreach (var single in run)
            {
                if (await SendAsync(peer, [single], ct) == Sent.Failing)
                {
                    return false;
                }
            }
            return true;
        }

        long? acknowledged = null;
        var accepted = 0;
        for (var k = 0; k < answers.Count && k < run.Count; k++)
        {
            var answer = answers[k];
            if (answer.Index != (ulong)k || answer.ResultCase == SubmitStreamResponse.ResultOneofCase.None)
            {
                broke ??= new RpcException(new Status(StatusCode.Internal, $"SubmitStream answered submission {answer.Index} in place of {k}, or without a result."));
                answers.RemoveRange(k, answers.Count - k);
                break;
            }
            if (answer.ResultCase == SubmitStreamResponse.ResultOneofCase.Accepted)
            {
                acknowledged = run[k].Id;
                accepted++;
                continue;
            }
            // What Submit would have thrown for it, trailers and all, classified the same way.
            var refused = Refusal(answer.Refused);
            if (Parks(refused))
            {
                if (acknowledged is { } upTo)
                {
                    await AcknowledgedAsync(peer, upTo, ct);
                    acknowledged = null;
                }
                await ParkAsync(peer, run[k], refused.StatusCode, refused.Status.Detail, ct); // moves the cursor past it
                continue;
            }
            broke = refused;
            answers.RemoveRange(k, answers.Count - k);
            break;
        }
        if (accepted > 0)
        {
            telemetry.Delivered(peer.NodeId, KindOf(run), accepted);
        }
        if (acknowledged is { } last)
        {
            await AcknowledgedAsync(peer, last, ct);
        }
        if (broke is null && answers.Count < run.Count)
        {
            broke = new RpcException(new Status(StatusCode.Unavailable, $"SubmitStream ended after {answers.Count} of {run.Count} answers."));
        }
        if (broke is not null)
        {
            await FailedAsync(peer, broke, ct);
            return false;
        }
        return true;
    }

    /// <summary>
    /// A submission the stream refused, as the <see cref="RpcException"/> Submit would have
    /// thrown for it: its status, detail and trailers (x-fed-rule, x-fed-clock, retry-after-ms).
    /// </summary>
    public static RpcException Refusal(SubmitRefusal refused)
    {
        var trailers = new Metadata();
        foreach (var (key, value) in refused.Trailers)
        {
            try
            {
                trailers.Add(key, value);
            }
            catch (ArgumentException)
            {
                // A key gRPC would not carry (upper case, binary): it could not have been a trailer.
            }
        }
        if (refused.Rule.Length > 0 && trailers.Get(RuleTrailer) is null)
        {
            trailers.Add(RuleTrailer, refused.Rule);
        }
        return new RpcException(new Status((StatusCode)refused.StatusCode, refused.Detail), trailers);
    }

    private const string RuleTrailer = "x-fed-rule";

    private static async Task SendAllAsync(IClientStreamWriter<SubmitRequest> requests, IReadOnlyList<OutboxItem> run)
    {
        foreach (var item in run)
        {
            await requests.WriteAsync(new SubmitRequest { Submission = SignedSubmission.Parser.ParseFrom(item.Body) });
        }
        await requests.CompleteAsync();
    }

    /// <summary>The peer took everything up to <paramref name="deliveredId"/>: move the cursor (and, when this run is done, let go of the lease).</summary>
    private async Task AcknowledgedAsync(PeerRecord peer, long deliveredId, CancellationToken ct, bool release = false)
    {
        var wasFailing = await store.WriteAsync(tx =>
        {
            var failing = tx.IsFailing(peer.NodeId);
            tx.Advance(peer.NodeId, deliveredId);
            // It took our delivery, so it has added us: peering is mutual.
            tx.SetPeerState(peer.NodeId, PeerStates.Active, onlyFrom: PeerStates.Pending);
            if (release)
            {
                tx.ReleaseLease(peer.NodeId, Owner);
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
    private async Task ParkAsync(PeerRecord peer, OutboxItem item, StatusCode code, string detail, CancellationToken ct)
    {
        telemetry.DeliveryFailed(peer.NodeId, "refused", code.ToString());
        log.LogWarning("Peer {Peer} refused {Kind} {Object}#{Seq} for good ({Status}); parked as a dead letter",
            peer.Name, item.Kind, item.ObjectId, item.Sequence, code);
        await store.WriteAsync(tx =>
        {
            tx.DeadLetter(item, code.ToString(), detail);
            return true;
        }, ct);
    }

    /// <summary>The peer is failing (or its breaker is open): record when to try again.</summary>
    private async Task FailedAsync(PeerRecord peer, Exception outcome, CancellationToken ct)
    {
        switch (outcome)
        {
            case RpcException failed:
                telemetry.DeliveryFailed(peer.NodeId, "unavailable", failed.StatusCode.ToString());
                await FailAsync(peer.NodeId, peer.Name, $"{failed.StatusCode}: {failed.Status.Detail}", ct, RetryAfter(failed));
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
                request.Envelopes.AddRange(run.Select(x => Parsed.GetValue(x.Body, static body => Envelope.Parser.ParseFrom(body))));
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

    // Envelopes parsed from the store's bytes, for as long as those bytes are alive. The store
    // hands every recipient of an event the same bytes (EnvelopeCache), so a call-out to a
    // thousand networks is parsed once, not a thousand times. Shared messages are only ever
    // serialised, never changed, which is safe from many calls at once.
    private static readonly ConditionalWeakTable<byte[], Envelope> Parsed = new();

    private static string KindOf(IReadOnlyList<OutboxItem> run) => run[0].Kind == OutboxKind.Event ? "events" : "submission";

    /// <summary>
    /// Whether a peer's refusal parks the item as a dead letter: a permanent status, unless it
    /// is marked as a clock refusal (x-fed-clock), which ends when a clock is put right and is
    /// retried. Used alike for Deliver, Submit and each answer of a SubmitStream.
    /// </summary>
    public static bool Parks(RpcException refused) => IsPermanent(refused.StatusCode) && !Envelopes.IsClockRefusal(refused);

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
    public const string SubmitStream = "/federation.v1.PeerService/SubmitStream";
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
