using Federation.Contracts.V1;
using Federation.Core.Fediverse;
using Federation.Core.Storage;

namespace Federation.Node.Fediverse;

/// <summary>The actor's state for `solnet info`: null while the actor is off.</summary>
public sealed class FediverseStatusView(FediverseSite site, IFederationStore store)
{
    public FediverseStatus? Status() => site.Enabled
        ? new FediverseStatus
        {
            Account = $"@{site.Account}@{site.Host}",
            Followers = (uint)store.FediverseFollowers().Count,
            PublicCallOuts = (uint)store.PublicCallOuts().Count,
            PendingDeliveries = (ulong)store.PendingFediverseDeliveries(),
            DeadLetters = (ulong)store.FediverseDeadLetters().Count,
        }
        : null;
}
