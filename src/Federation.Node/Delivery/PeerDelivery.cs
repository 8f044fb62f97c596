using Federation.Contracts.V1;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Storage;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// Delivers one peer's pending items in order, in batches, with one batch in flight
/// (a lease in the database) and the cursor advanced only after the peer acknowledges.
/// A crash after sending and before advancing re-sends; the receiver dedupes.
/// </summary>
public sealed class PeerDelivery(
    SqliteStore store,
    PeerClients clients,
    IOptions<NodeOptions> options,
    ILogger<PeerDelivery> log)
{
    private static readonly string Owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    public async Task RunAsync(string peerId, CancellationToken ct)
    {
        if (!await store.WriteAsync(tx => tx.TryLease(peerId, Owner, DateTimeOffset.UtcNow + Lease), ct))
        {
            return; // someone else has a batch in flight for this peer
        }
        try
        {
            var peer = store.GetPeer(peerId);
            if (peer is null)
            {
                // Rows addressed to a node this one has not added yet wait until it is added.
                await Fail(peerId, "not a peer: add it with its address and fingerprint", ct);
                return;
            }
            if (!PeerDirectory.Reachable(peer.State))
            {
                return; // suspended or revoked: nothing is sent
            }
            var started = DateTimeOffset.UtcNow;
            while (!ct.IsCancellationRequested && DateTimeOffset.UtcNow - started < Lease / 2)
            {
                var batch = store.LoadBatch(peerId, options.Value.DeliveryBatchSize);
                if (batch.Count == 0)
                {
                    return;
                }
                if (!await SendAsync(peer, batch, ct))
                {
                    return;
                }
            }
        }
        finally
        {
            await store.WriteAsync(tx =>
            {
                tx.ReleaseLease(peerId, Owner);
                return true;
            }, CancellationToken.None);
        }
    }

    /// <summary>Sends a batch as runs of events (one Deliver call each) and single submissions. False when the peer is failing.</summary>
    private async Task<bool> SendAsync(PeerRecord peer, IReadOnlyList<OutboxItem> batch, CancellationToken ct)
    {
        var i = 0;
        while (i < batch.Count)
        {
            var run = batch[i].Kind == OutboxKind.Event
                ? batch.Skip(i).TakeWhile(x => x.Kind == OutboxKind.Event).ToList()
                : [batch[i]];
            var outcome = await CallAsync(peer, run, ct);
            if (outcome is null)
            {
                await store.WriteAsync(tx =>
                {
                    tx.Advance(peer.NodeId, run[^1].Id);
                    // It took our delivery, so it has added us: peering is mutual.
                    tx.SetPeerState(peer.NodeId, PeerDirectory.Active, onlyFrom: PeerDirectory.Pending);
                    return true;
                }, ct);
            }
            else if (IsPermanent(outcome.StatusCode))
            {
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
                    log.LogWarning("Peer {Peer} refused {Kind} {Object}#{Seq} for good ({Status}); parked as a dead letter",
                        peer.Name, run[0].Kind, run[0].ObjectId, run[0].Sequence, outcome.StatusCode);
                    await store.WriteAsync(tx =>
                    {
                        tx.DeadLetter(run[0], outcome.StatusCode.ToString(), outcome.Status.Detail);
                        return true;
                    }, ct);
                }
            }
            else
            {
                await Fail(peer.NodeId, $"{outcome.StatusCode}: {outcome.Status.Detail}", ct, outcome.Trailers);
                return false;
            }
            i += run.Count;
        }
        return true;
    }

    private async Task<RpcException?> CallAsync(PeerRecord peer, IReadOnlyList<OutboxItem> run, CancellationToken ct)
    {
        var client = clients.For(peer.Address);
        try
        {
            if (run[0].Kind == OutboxKind.Event)
            {
                var request = new DeliverRequest();
                request.Envelopes.AddRange(run.Select(x => Envelope.Parser.ParseFrom(x.Body)));
                await client.DeliverAsync(request, clients.Options(peer.NodeId, Methods.Deliver, ct));
            }
            else
            {
                var request = new SubmitRequest { Submission = SignedSubmission.Parser.ParseFrom(run[0].Body) };
                await client.SubmitAsync(request, clients.Options(peer.NodeId, Methods.Submit, ct));
            }
            return null;
        }
        catch (RpcException ex)
        {
            return ex;
        }
    }

    /// <summary>Refusals that will not change by retrying: park them, never retry them.</summary>
    public static bool IsPermanent(StatusCode code) => code is StatusCode.InvalidArgument or StatusCode.PermissionDenied
        or StatusCode.Unauthenticated or StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.AlreadyExists
        or StatusCode.OutOfRange or StatusCode.Unimplemented;

    private async Task Fail(string peerId, string error, CancellationToken ct, Metadata? trailers = null)
    {
        var attempts = await store.WriteAsync(tx => tx.Attempts(peerId), ct);
        var delay = Backoff.Delay(attempts, options.Value.RetryBaseDelay, options.Value.RetryMaxDelay, RetryAfter(trailers));
        log.LogInformation("Delivery to {Peer} failed ({Error}); retrying in {Delay}", peerId, error, delay);
        await store.WriteAsync(tx =>
        {
            tx.RecordFailure(peerId, error, DateTimeOffset.UtcNow + delay);
            return true;
        }, ct);
    }

    private static TimeSpan? RetryAfter(Metadata? trailers)
    {
        var value = trailers?.GetValue("retry-after-ms");
        return long.TryParse(value, out var ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms) : null;
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
