using Federation.Core.Commands;
using Federation.Core.Identity;
using Federation.Node.Hosting;
using Federation.Node.Peering;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Dashboard.Tests;

/// <summary>A real node on loopback with its gRPC port, its dashboard port and its own data folder.</summary>
public sealed class DashboardNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DashboardNode(string name, string dataDir, int port, int dashboardPort, WebApplication app)
    {
        Name = name;
        DataDir = dataDir;
        Port = port;
        DashboardPort = dashboardPort;
        _app = app;
    }

    public string Name { get; }
    public string DataDir { get; }
    public int Port { get; }
    public int DashboardPort { get; }
    public string Address => $"http://127.0.0.1:{Port}";
    public string Dashboard => $"http://127.0.0.1:{DashboardPort}";
    public IServiceProvider Services => _app.Services;
    public NodeIdentity Identity => Services.GetRequiredService<NodeIdentity>();
    public string NodeId => Identity.NodeId;
    public string Token => File.ReadAllText(Path.Combine(DataDir, "operator.token")).Trim();
    public CallOutCommands CallOuts => Services.GetRequiredService<CallOutCommands>();
    public FightCommands Fights => Services.GetRequiredService<FightCommands>();

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Starts a node; <paramref name="region"/> is its Node:Region, told to peers for region audiences and inbox filters.</summary>
    /// <param name="extra">More settings, e.g. "--Node:Fediverse:Enabled", "true".</param>
    public static async Task<DashboardNode> StartAsync(string name, string? region = null, string? timeZone = null, string[]? extra = null)
    {
        var dataDir = Directory.CreateTempSubdirectory($"fed-dash-{name}-").FullName;
        var port = Ports.Free();
        var dashboardPort = Ports.Free();
        string[] args =
        [
            "--name", name, "--port", port.ToString(), "--dashboard-port", dashboardPort.ToString(), "--data", dataDir,
            // Webhook deliveries show up on the notifications page within a test's patience.
            "--Node:Notifications:PollInterval", "00:00:00.2",
            // The tests' webhook receivers listen on loopback, which a node refuses unless allowed.
            "--Node:Notifications:AllowedWebhookTargets:0", "127.0.0.1",
            .. region is null ? Array.Empty<string>() : ["--region", region],
            .. timeZone is null ? Array.Empty<string>() : ["--Node:TimeZone", timeZone],
            .. extra ?? [],
        ];
        var app = NodeHost.Build(args, o =>
        {
            o.DispatchInterval = TimeSpan.FromMilliseconds(200);
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(200);
            o.RetryMaxDelay = TimeSpan.FromSeconds(1);
        });
        await app.StartAsync();
        return new DashboardNode(name, dataDir, port, dashboardPort, app);
    }

    /// <summary>Both operators add each other, as the walkthrough does with `solnet peer add`.</summary>
    public static async Task PeerAsync(params DashboardNode[] nodes)
    {
        foreach (var a in nodes)
        {
            foreach (var b in nodes.Where(b => b != a))
            {
                await a.Services.GetRequiredService<PeerDirectory>().AddAsync(b.Address, b.Identity.Fingerprint, CancellationToken.None);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow file system is not worth failing a test over.
        }
    }
}
