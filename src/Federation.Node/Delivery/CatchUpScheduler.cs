using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Peers;
using Federation.Node.Peering;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// Asks for catch-up from every peer on start and every <see cref="NodeOptions.CatchUpInterval"/>,
/// and from one peer when it is heard from again; each request becomes one bus message
/// per peer, so the work spreads over the node's replicas. Also warns, once, when a peer
/// has been failing for longer than <see cref="NodeOptions.UnavailableAfter"/>.
/// </summary>
public sealed class CatchUpScheduler(
    CatchUpSignal signal,
    PeerRoster roster,
    PeerDirectory peers,
    IBus bus,
    BusReadiness busReady,
    IOptions<NodeOptions> options,
    ILogger<CatchUpScheduler> log) : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // On start: whatever happened while this node was away. Asked once the bus can
        // carry it; while the broker is unreachable nothing could be queued anyway.
        await busReady.WaitAsync(stoppingToken);
        signal.RequestAll();
        var interval = options.Value.CatchUpInterval;
        var ticks = interval > TimeSpan.Zero ? TickAsync(interval, stoppingToken) : Task.CompletedTask;
        try
        {
            await foreach (var request in signal.Requests.ReadAllAsync(stoppingToken))
            {
                IReadOnlyList<string> targets;
                try
                {
                    targets = request is null ? roster.ActivePeerIds() : [request];
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database is unreachable (PostgreSQL restarting, say). An exception
                    // here would end this service, and with it every later catch-up pass;
                    // the next tick asks again.
                    log.LogWarning("Could not list peers for catch-up ({Error}); the next pass asks again", ex.Message);
                    continue;
                }
                foreach (var peerId in targets)
                {
                    try
                    {
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                        timeout.CancelAfter(PublishTimeout);
                        await bus.Publish(new CatchUpFromPeer(peerId), timeout.Token);
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        log.LogWarning("Could not queue catch-up from {Peer} on the bus ({Error}); the next pass asks again", peerId, ex.Message);
                        break;
                    }
                }
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping. The bus may stop first, and a publish then fails with its own error
            // (a closed channel), not a cancellation: an exception escaping here would be
            // logged as the service crashing and stop the host, on every stop just after a start.
        }
        await ticks;
    }

    private async Task TickAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        var reported = new HashSet<string>();
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                signal.RequestAll();
                try
                {
                    ReportUnavailable(reported);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // A database outage must not stop the ticks (and so the periodic catch-up).
                    log.LogWarning("Could not read peer health ({Error}); the next tick tries again", ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopping
        }
    }

    /// <summary>Warns once when a peer crosses into unavailable, and notes when it recovers.</summary>
    private void ReportUnavailable(HashSet<string> reported)
    {
        foreach (var p in peers.List())
        {
            if (p.Health == PeerHealth.Unavailable && reported.Add(p.NodeId))
            {
                log.LogWarning("Peer {Peer} ({Fingerprint}) has been failing since {Since:u} and is now marked unavailable; delivery to it goes on. Last error: {Error}",
                    p.Name, p.Fingerprint, p.FailingSince.ToDateTimeOffset(), p.LastError);
            }
            else if (p.Health == PeerHealth.Healthy && reported.Remove(p.NodeId))
            {
                log.LogInformation("Peer {Peer} ({Fingerprint}) is healthy again", p.Name, p.Fingerprint);
            }
        }
    }
}
