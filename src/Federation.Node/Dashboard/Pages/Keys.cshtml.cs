using Federation.Contracts.V1;
using Federation.Node.Peering;

namespace Federation.Node.Dashboard.Pages;

/// <summary>
/// The network's keys (operator only; issue 16): where the network key is, the node key in
/// use, the keys revoked and the events set aside. Read only: rotating and revoking need
/// the network key, which must never reach the server the dashboard runs on.
/// </summary>
public sealed class KeysModel(DashboardContext context, NodeKeys nodeKeys) : DashboardPage(context)
{
    public bool Allowed => Can("GetNodeKeys");

    public NodeKeysStatus Status { get; private set; } = new();

    protected override void Load()
    {
        if (Allowed)
        {
            Status = nodeKeys.Status();
        }
    }
}
