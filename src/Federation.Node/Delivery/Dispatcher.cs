using Federation.Node.Hosting;
using Federation.Node.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// Turns due outbox rows into bus work: one <see cref="DeliverToPeer"/> per peer with
/// something pending. It may crash at any point: the rows stay in the database until a
/// peer acknowledges them, so on restart it simply finds them again.
/// </summary>
public sealed class Dispatcher(
    SqliteStore store,
    OutboxSignal signal,
    IBus bus,
    IOptions<NodeOptions> options,
    ILogger<Dispatcher> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var objectId in store.ObjectsWithHeldEvents())
        {
            // Events held behind a gap when the node stopped: fill the gaps now.
            await bus.Publish(new BackfillObject(objectId), stoppingToken);
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var peer in store.DuePeers(DateTimeOffset.UtcNow))
                {
                    await bus.Publish(new DeliverToPeer(peer), stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Dispatch pass failed; retrying at the next pass");
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
}
