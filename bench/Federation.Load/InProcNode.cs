using System.Net;
using System.Net.Sockets;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Node.Hosting;
using Federation.Node.Peering;

namespace Federation.Load;

/// <summary>A real node (NodeHost.Build) on a loopback port, in this process, with its own data folder.</summary>
public sealed class InProcNode : IAsyncDisposable
{
    private WebApplication? _app;
    private readonly Action<NodeOptions>? _configure;

    private InProcNode(string name, Action<NodeOptions>? configure)
    {
        Name = name;
        _configure = configure;
        DataDir = Directory.CreateTempSubdirectory($"fed-load-{name}-").FullName;
        Port = FreePort();
    }

    public string Name { get; }
    public string DataDir { get; }
    public int Port { get; }
    public string Address => $"http://127.0.0.1:{Port}";
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException($"{Name} is stopped.");
    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();
    public NodeIdentity Identity => Get<NodeIdentity>();
    public IFederationStore Store => Get<IFederationStore>();

    public static async Task<InProcNode> StartAsync(string name, Action<NodeOptions>? configure = null)
    {
        var node = new InProcNode(name, configure);
        await node.StartAgainAsync();
        return node;
    }

    public async Task StartAgainAsync()
    {
        _app = NodeHost.Build(["--name", Name, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", DataDir], o =>
        {
            o.DashboardPort = 0; // the dashboard is not what is measured here
            // The per-peer rate limit is a policy against abuse, not a capacity: lift it
            // so the load tool measures what the node can do.
            o.PeerRequestsPerSecond = 10_000_000;
            _configure?.Invoke(o);
        }, b =>
        {
            b.Logging.ClearProviders();
            b.Logging.AddSimpleConsole(o => o.SingleLine = true);
            b.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await _app.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    /// <summary>This node's operator adds the node at <paramref name="address"/>, as `solnet peer add` does.</summary>
    public Task AddPeerAsync(string address, string fingerprint) =>
        Get<PeerDirectory>().AddAsync(address, fingerprint, CancellationToken.None);

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is not worth failing a run over.
        }
    }
}
