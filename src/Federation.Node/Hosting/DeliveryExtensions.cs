using Federation.Core.Delivery;
using Federation.Node.Delivery;
using Federation.Node.Jobs;

namespace Federation.Node.Hosting;

public static class DeliveryExtensions
{
    /// <summary>
    /// Getting events to peers: the calls, the dispatcher that queues the outbox on the bus,
    /// backfill and catch-up, dead letters and stand-down resends. The bus itself is
    /// <see cref="BusExtensions.AddFederationBus"/>.
    /// </summary>
    public static IServiceCollection AddFederationDelivery(this IServiceCollection services)
    {
        services.AddSingleton<PeerCalls>();
        services.AddSingleton<PeerDelivery>();
        services.AddSingleton<PeerSender>();
        services.AddSingleton<DeliveryLeases>();
        services.AddSingleton<DeliveryRecorder>();
        services.AddSingleton<Backfill>();
        services.AddSingleton<RecoverFromPeers>();
        services.AddSingleton<CatchUp>();
        services.AddSingleton<CatchUpSignal>();
        services.AddSingleton<DeadLetters>();
        services.AddSingleton<Bundles>();
        // Relay through a mutual peer (docs/adr/0027).
        services.AddSingleton(sp => Federation.Core.Identity.SealingKey.LoadOrCreate(
            Directory.CreateDirectory(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Federation.Core.NodeOptions>>().Value.ResolvedDataDir).FullName));
        services.AddSingleton<Relay.RelayOffers>();
        services.AddSingleton<Relay.RelayDesk>();
        services.AddSingleton<Relay.RelayCourier>();
        services.AddHostedService(sp => sp.GetRequiredService<Relay.RelayCourier>());
        services.AddSingleton<BusReadiness>();
        services.AddHostedService<Dispatcher>();
        services.AddSingleton<StandDownResender>();
        services.AddHostedService(sp => sp.GetRequiredService<StandDownResender>());
        services.AddHostedService<CatchUpScheduler>();
        services.AddHostedService<Jobs.KeyRenewalReminder>();
        return services;
    }
}
