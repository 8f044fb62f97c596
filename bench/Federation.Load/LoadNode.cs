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

    /// <summary>
    /// With <paramref name="on"/>, the node seals at rest (issue 24): a storage key set up at
    /// start and unlocked, as a node unlocked at boot runs. Off, it has no key.
    /// </summary>
    public static Action<NodeOptions>? Sealing(bool on)
    {
        if (!on)
        {
            return null;
        }
        var file = Path.Combine(Directory.CreateTempSubdirectory("fed-load-pass-").FullName, "storage-passphrase");
        File.WriteAllText(file, "load tool storage passphrase\n");
        return o => o.StoragePassphraseFile = file;
    }
}
