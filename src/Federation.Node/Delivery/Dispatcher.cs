using Federation.Core;
using Federation.Core.Delivery;
using Federation.Core.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// Turns due outbox rows into bus work: one <see cref="DeliverToPeer"/> doorbell per peer
/// with something pending, rung once and noted in the database. It may crash at any
/// point, and the bus may lose or hold its messages: the rows stay in the database until
/// a peer acknowledges them, so on restart, or once a lost doorbell times out, it simply
/// finds them again.
/// </summary>
public sealed class Dispatcher(
    IFederationStore store,
    OutboxSignal signal,
    IBus bus,
    BusReadiness busReady,
    IOptions<NodeOptions> options,
    ILogger<Dispatcher> log) : BackgroundService
{
    // A doorbell not answered in this time is taken as lost and rung again; a duplicate
    // costs one look at an empty queue.
    private static readonly TimeSpan RingTimeout = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    public const string BusDownMessage = "The bus does not take delivery work";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var released = await store.WriteAsync(tx =>
        {
            // Doorbells rung before a restart may have gone with the in-memory bus: ring again.
            tx.UnringAll();
            // A process of this machine that died (SIGKILL, power cut) cannot release its
            // leases; release them now rather than wait them out.
            return tx.ReleaseLeasesOf(DeliveryLeases.OwnerIsGone);
        }, stoppingToken);
        if (released > 0)
        {
            log.LogInformation("Released {Count} delivery leases held by a process that is gone", released);
        }
        // A doorbell rung before the bus is ready would be lost and waited out (RingTimeout).
        // Waited for at most one publish timeout: if the broker is away, the passes below
        // find it so and say so, as they do when it goes away later.
        await Task.WhenAny(busReady.WaitAsync(stoppingToken), Task.Delay(PublishTimeout, stoppingToken));
        var busDown = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                busDown = await DispatchAsync(busDown, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Dispatch pass failed; retrying at the next pass");
                // Most likely the database: a ring may have committed unseen, so ring again once it is back.
                signal.DatabaseTrouble(wake: false);
            }
            try
            {
                await signal.WaitAsync(options.Value.DispatchInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass; returns whether the bus is refusing work.</summary>
    private async Task<bool> DispatchAsync(bool busDown, CancellationToken ct)
    {
        if (signal.TakeDatabaseTrouble())
        {
            try
            {
                // As on start: doorbells noted as rung may have nobody to answer them. A
                // peer still being delivered to in this process ignores the extra one.
                await store.WriteAsync(tx =>
                {
                    tx.UnringAll();
                    return true;
                }, ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                signal.DatabaseTrouble(wake: false); // at the next pass, not at once: it is still away
                throw;
            }
            log.LogInformation("The database answers again: every due peer's doorbell is rung again");
        }
        var due = store.DuePeers(DateTimeOffset.UtcNow);
        if (due.Count == 0)
        {
            return busDown;
        }
        // Every due peer's doorbell is noted in one commit, not one commit each: a call-out
        // to a thousand networks must not wait for a thousand disk flushes before the last
        // doorbell rings.
        await store.WriteAsync(tx =>
        {
            var until = DateTimeOffset.UtcNow + RingTimeout;
            foreach (var peer in due)
            {
                tx.Ring(peer, until);
            }
            return true;
        }, ct);
        for (var i = 0; i < due.Count; i += PublishesAtOnce)
        {
            var chunk = due.Skip(i).Take(PublishesAtOnce).ToList();
            var failed = await PublishAsync(chunk, ct);
            if (failed is not null)
            {
                // These doorbells and those after them did not go out: the next pass rings them.
                var unrung = chunk.Where((_, j) => failed.Value.Failed[j]).Concat(due.Skip(i + chunk.Count)).ToList();
                await store.WriteAsync(tx =>
                {
                    foreach (var peer in unrung)
                    {
                        tx.Unring(peer);
                    }
                    return true;
                }, ct);
                if (!busDown)
                {
                    log.LogWarning(BusDownMessage + " ({Error}); the outbox keeps it, and dispatch resumes when the bus is back", failed.Value.Error.Message);
                }
                return true;
            }
            if (busDown)
            {
                log.LogInformation("The bus takes delivery work again");
                busDown = false;
            }
        }
        return busDown;
    }

    /// <summary>
    /// How many doorbells are published at once. With RabbitMQ each publish returns when the
    /// broker confirms it: one after another, a call-out to a thousand networks waited for a
    /// thousand confirmations in a row before the last peer's delivery could start (issue 20 #5).
    /// </summary>
    public const int PublishesAtOnce = 64;

    /// <summary>Publishes one doorbell per peer, all at once; null when every one went out, else which did not and the first error.</summary>
    private async Task<(bool[] Failed, Exception Error)?> PublishAsync(IReadOnlyList<string> peers, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(PublishTimeout);
        // Each as a task of its own, so a publish that throws at once fails only itself.
        var publishes = peers.Select(async peer => await bus.Publish(new DeliverToPeer(peer), timeout.Token)).ToArray();
        try
        {
            await Task.WhenAll(publishes);
            return null;
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            var failed = publishes.Select(p => !p.IsCompletedSuccessfully).ToArray();
            var error = publishes.First(p => p.IsFaulted || p.IsCanceled) is { IsFaulted: true } f ? f.Exception!.InnerException! : new TimeoutException("The bus did not confirm in time.");
            return (failed, error);
        }
    }
}
