using MassTransit;

namespace Federation.Node.Delivery;

// The consumers log a failure and return instead of throwing: the database still holds
// the work and the dispatcher or the next catch-up pass asks again, so a failed message
// is not worth an error queue that nobody reads.

public sealed class DeliverToPeerConsumer(PeerDelivery delivery, ILogger<DeliverToPeerConsumer> log) : IConsumer<DeliverToPeer>
{
    public async Task Consume(ConsumeContext<DeliverToPeer> context)
    {
        try
        {
            await delivery.RunAsync(context.Message.PeerId, context.CancellationToken);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            log.LogWarning(ex, "Delivery to {Peer} stopped unexpectedly; the dispatcher will try again", context.Message.PeerId);
        }
    }
}

public sealed class BackfillObjectConsumer(Backfill backfill, ILogger<BackfillObjectConsumer> log) : IConsumer<BackfillObject>
{
    public async Task Consume(ConsumeContext<BackfillObject> context)
    {
        try
        {
            await backfill.RunAsync(context.Message.ObjectId, context.CancellationToken);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            log.LogWarning(ex, "Backfill of {Object} stopped unexpectedly; the next catch-up pass tries again", context.Message.ObjectId);
        }
    }
}

public sealed class CatchUpFromPeerConsumer(CatchUp catchUp, ILogger<CatchUpFromPeerConsumer> log) : IConsumer<CatchUpFromPeer>
{
    public async Task Consume(ConsumeContext<CatchUpFromPeer> context)
    {
        try
        {
            await catchUp.RunAsync(context.Message.PeerId, context.CancellationToken);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            log.LogWarning(ex, "Catch-up from {Peer} stopped unexpectedly; the next pass tries again", context.Message.PeerId);
        }
    }
}
