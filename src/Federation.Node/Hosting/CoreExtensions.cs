using Federation.Core.Storage;
using Federation.Core;
using Federation.Core.Commands;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Core.Queries;
using Federation.Node.Delivery;
using Federation.Node.Grpc;
using Federation.Node.Jobs;
using Federation.Node.Peering;
using Federation.Node.Security;
using Federation.Storage;
using Microsoft.Extensions.Options;

namespace Federation.Node.Hosting;

public static class CoreExtensions
{
    /// <summary>The node's database: SQLite in its data folder, or a shared PostgreSQL (Node:Database).</summary>
    public static IServiceCollection AddFederationStorage(this IServiceCollection services)
    {
        services.AddSingleton(sp => Stores.Open(sp.GetRequiredService<IOptions<NodeOptions>>().Value));
        // The read roles, for callers that only read one concern: the same store.
        services.AddSingleton<IObjectReads>(sp => sp.GetRequiredService<IFederationStore>());
        services.AddSingleton<IPeerReads>(sp => sp.GetRequiredService<IFederationStore>());
        services.AddSingleton<IDeliveryReads>(sp => sp.GetRequiredService<IFederationStore>());
        services.AddSingleton<IAuditReads>(sp => sp.GetRequiredService<IFederationStore>());
        return services;
    }

    /// <summary>
    /// The application core: the node's identity and clock, who may call it, its logs,
    /// commands and queries, and the jobs that keep its store tidy.
    /// </summary>
    public static IServiceCollection AddFederationCore(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<NodeOptions>>().Value;
            return NodeIdentity.LoadOrCreate(Directory.CreateDirectory(o.ResolvedDataDir).FullName,
                [o.Host, Uri.TryCreate(o.ResolvedPublicAddress, UriKind.Absolute, out var u) ? u.Host : ""],
                o.FindNetworkKeyAlgorithm() ?? throw new InvalidOperationException("Node:NetworkKeyAlgorithm is checked at start."));
        });
        // The storage key is wrapped to the network key for recovery only while that key is off the server (docs/adr/0026).
        services.AddSingleton(sp => new Federation.Core.Sealing.StorageVault(
            Directory.CreateDirectory(sp.GetRequiredService<IOptions<NodeOptions>>().Value.ResolvedDataDir).FullName,
            () => sp.GetRequiredService<NodeIdentity>().Current.Checked?.NetworkPublicKey));
        services.AddSingleton<StorageLock>();
        services.AddSingleton<Federation.Core.Sealing.SealedLogs>();
        // The machine's clock for local bookkeeping; NodeClock (shifted by Node:ClockOffset) for what is signed.
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<NodeClock>();
        // Registered before the jobs it guards, so that it stops after them and lets go of their leases.
        services.AddSingleton<JobLeases>();
        services.AddHostedService(sp => sp.GetRequiredService<JobLeases>());
        services.AddSingleton<PeerKeys>();
        services.AddSingleton<OperatorToken>();
        services.AddSingleton<DelegateTokens>();
        services.AddSingleton<Backups.NodeBackup>();
        services.AddSingleton<RateLimits>();
        services.AddSingleton<DelegateGate>();
        services.AddSingleton<RefusalAudit>();
        services.AddHostedService(sp => sp.GetRequiredService<RefusalAudit>());
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<CapabilityGate>();
        services.AddSingleton<SealedEnvelopes>();
        services.AddSingleton<PeerClients>();
        services.AddSingleton<OriginLog>();
        services.AddSingleton<ReplicaLog>();
        services.AddSingleton<PeerDirectory>();
        services.AddSingleton<NodeKeys>();
        // What this node speaks (a test of another protocol version registers its own after this: the last one wins).
        services.AddSingleton(LocalProtocol.ThisBuild);
        services.AddSingleton<PeerProtocols>();
        services.AddHostedService<ProtocolExchange>();
        services.AddSingleton<PeerRoster>();
        services.AddSingleton<PeerAuthenticator>();
        services.AddSingleton<SignedSubmissions>();
        services.AddSingleton<Grpc.SeenCalls>();
        services.AddSingleton(sp => new Federation.Core.Fediverse.FediverseSite(sp.GetRequiredService<IOptions<NodeOptions>>().Value.Fediverse));
        services.AddSingleton<Federation.Core.Fediverse.FediversePublisher>();
        services.AddSingleton<CallOutCommands>();
        services.AddSingleton<Fediverse.FediverseKey>();
        services.AddSingleton<Fediverse.RemoteActors>();
        services.AddSingleton<Fediverse.FediverseInbox>();
        services.AddSingleton<Fediverse.FediverseStatusView>();
        services.AddHostedService<Fediverse.FediverseDeliveryWorker>();
        services.AddSingleton<FightCommands>();
        services.AddSingleton<Submissions>();
        services.AddSingleton<Confidential>();
        services.AddSingleton<PurgeSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<PurgeSweeper>());
        services.AddSingleton<BalanceView>();
        services.AddSingleton<CommitmentView>();
        return services;
    }
}
