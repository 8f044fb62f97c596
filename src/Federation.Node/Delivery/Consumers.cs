using MassTransit;

namespace Federation.Node.Delivery;

/// <summary>
/// A bus message that asks for work the database already holds. A failure is logged and
/// the message returns instead of throwing: the dispatcher or the next catch-up pass asks
/// again, so a failed message is not worth an error queue that nobody reads.
/// </summary>
public abstract class WorkConsumer<T>(ILogger log) : IConsumer<T> where T : class
{
    protected abstract Task RunAsync(T message, CancellationToken ct);

    /// <summary>The log line for a failure: what stopped, and who tries again.</summary>
    protected abstract void LogStopped(ILogger log, Exception ex, T message);

    public async Task Consume(ConsumeContext<T> context)
    {
        try
        {
            await RunAsync(context.Message, context.CancellationToken);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            LogStopped(log, ex, context.Message);
        }
    }
}

public sealed class DeliverToPeerConsumer(PeerDelivery delivery, ILogger<DeliverToPeerConsumer> log) : WorkConsumer<DeliverToPeer>(log)
{
    protected override Task RunAsync(DeliverToPeer m, CancellationToken ct) => delivery.RunAsync(m.PeerId, ct);

    protected override void LogStopped(ILogger log, Exception ex, DeliverToPeer m) =>
        log.LogWarning(ex, "Delivery to {Peer} stopped unexpectedly; the dispatcher will try again", m.PeerId);
}

public sealed class BackfillObjectConsumer(Backfill backfill, ILogger<BackfillObjectConsumer> log) : WorkConsumer<BackfillObject>(log)
{
    protected override Task RunAsync(BackfillObject m, CancellationToken ct) => backfill.RunAsync(m.ObjectId, ct);

    protected override void LogStopped(ILogger log, Exception ex, BackfillObject m) =>
        log.LogWarning(ex, "Backfill of {Object} stopped unexpectedly; the next catch-up pass tries again", m.ObjectId);
}

public sealed class CatchUpFromPeerConsumer(CatchUp catchUp, ILogger<CatchUpFromPeerConsumer> log) : WorkConsumer<CatchUpFromPeer>(log)
{
    protected override Task RunAsync(CatchUpFromPeer m, CancellationToken ct) => catchUp.RunAsync(m.PeerId, ct);

    protected override void LogStopped(ILogger log, Exception ex, CatchUpFromPeer m) =>
        log.LogWarning(ex, "Catch-up from {Peer} stopped unexpectedly; the next pass tries again", m.PeerId);
}
