using MassTransit;

namespace Federation.Node.Delivery;

public sealed class DeliverToPeerConsumer(PeerDelivery delivery) : IConsumer<DeliverToPeer>
{
    public Task Consume(ConsumeContext<DeliverToPeer> context) => delivery.RunAsync(context.Message.PeerId, context.CancellationToken);
}

public sealed class BackfillObjectConsumer(Backfill backfill) : IConsumer<BackfillObject>
{
    public Task Consume(ConsumeContext<BackfillObject> context) => backfill.RunAsync(context.Message.ObjectId, context.CancellationToken);
}
