using Federation.Core;

namespace Federation.Load;

/// <summary>The load tool's nodes: <see cref="InProcNode"/>s with the dashboard off, no per-peer limit, and warnings only.</summary>
public static class LoadNode
{
    public static Task<InProcNode> StartAsync(string name, Action<NodeOptions>? configure = null) =>
        InProcNode.StartAsync(name, o =>
        {
            o.DashboardPort = 0; // the dashboard is not what is measured here
            // The per-peer rate limit is a policy against abuse, not a capacity: lift it
            // so the load tool measures what the node can do.
            o.PeerRequestsPerSecond = 10_000_000;
            configure?.Invoke(o);
        }, b =>
        {
            b.Logging.ClearProviders();
            b.Logging.AddSimpleConsole(o => o.SingleLine = true);
            b.Logging.SetMinimumLevel(LogLevel.Warning);
        }, folderPrefix: "fed-load");
}
