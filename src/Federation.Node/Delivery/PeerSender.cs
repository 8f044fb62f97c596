using System.Runtime.CompilerServices;
using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Core.Telemetry;
using Federation.Node.Grpc;
using Grpc.Core;
using Polly.CircuitBreaker;

namespace Federation.Node.Delivery;

/// <summary>
/// Sends a peer its queued items: runs of events on Deliver, runs of submissions on
/// SubmitStream (or Submit for a single one), and settles each item by the peer's answer.
/// </summary>
public sealed class PeerSender(PeerCalls calls, DeliveryLeases leases, DeliveryRecorder recorder, NodeTelemetry telemetry)
{
    /// <summary>How a batch went to a peer.</summary>
    public enum Sent
    {
        /// <summary>The peer is failing (or the lease was lost): stop, and try again later.</summary>
        Failing,
        /// <summary>Every item was acknowledged or parked.</summary>
        All,
        /// <summary>Every item was settled, and the last acknowledgement let go of the lease.</summary>
        AllAndReleased,
    }

    /// <summary>
    /// Sends a batch as runs of events (one Deliver call each) and runs of submissions (one
    /// SubmitStream call each, or one Submit call for a single one).
    /// </summary>
    public async Task<Sent> SendAsync(PeerRecord peer, IReadOnlyList<OutboxItem> batch, CancellationToken ct, bool releaseAfter = false)
    {
        var released = false;
        var i = 0;
        while (i < batch.Count)
        {
            var kind = batch[i].Kind;
            var run = batch.Skip(i).TakeWhile(x => x.Kind == kind).ToList();
            if (i > 0 && !await leases.RenewAsync(peer.NodeId, ct))
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
                    await recorder.AcknowledgedAsync(peer, run[^1].Id, ct, released);
                    break;
                case RpcException refused when WireRefusals.Parks(refused):
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
                        await recorder.ParkAsync(peer, run[0], refused.StatusCode, refused.Status.Detail, ct);
                    }
                    break;
                default:
                    await recorder.FailedAsync(peer, outcome, ct);
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
    /// parked) exactly as Submit's answer would (see <see cref="WireRefusals.Parks"/>: a clock refusal is
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
        if (broke is RpcException whole && answers.Count == 0 && WireRefusals.Parks(whole))
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
            var refused = WireRefusals.FromSubmitRefusal(answer.Refused);
            if (WireRefusals.Parks(refused))
            {
                if (acknowledged is { } upTo)
                {
                    await recorder.AcknowledgedAsync(peer, upTo, ct);
                    acknowledged = null;
                }
                await recorder.ParkAsync(peer, run[k], refused.StatusCode, refused.Status.Detail, ct); // moves the cursor past it
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
            await recorder.AcknowledgedAsync(peer, last, ct);
        }
        if (broke is null && answers.Count < run.Count)
        {
            broke = new RpcException(new Status(StatusCode.Unavailable, $"SubmitStream ended after {answers.Count} of {run.Count} answers."));
        }
        if (broke is not null)
        {
            await recorder.FailedAsync(peer, broke, ct);
            return false;
        }
        return true;
    }

    private static async Task SendAllAsync(IClientStreamWriter<SubmitRequest> requests, IReadOnlyList<OutboxItem> run)
    {
        foreach (var item in run)
        {
            await requests.WriteAsync(new SubmitRequest { Submission = SignedSubmission.Parser.ParseFrom(item.Body) });
        }
        await requests.CompleteAsync();
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
                await calls.CallAsync(peer, Methods.Deliver, request, (c, r, o) => c.DeliverAsync(r, o), ct);
            }
            else
            {
                var request = new SubmitRequest { Submission = SignedSubmission.Parser.ParseFrom(run[0].Body) };
                await calls.CallAsync(peer, Methods.Submit, request, (c, r, o) => c.SubmitAsync(r, o), ct);
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
}
