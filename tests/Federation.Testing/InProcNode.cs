using Federation.Core;
using Federation.Core.Identity;
using Federation.Node.Hosting;
using Federation.Node.Peering;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Federation.Testing;

/// <summary>
/// A real node (<see cref="NodeHost.Build"/>) on a real Kestrel loopback port, in this
/// process, with its own data folder. It can be stopped and started again on the same
/// folder and port, as an operator would.
/// </summary>
public class InProcNode : IAsyncDisposable
{
    private WebApplication? _app;
    private readonly string[] _args;
    private readonly Action<NodeOptions>? _configure;

    /// <param name="args">More command-line settings, e.g. "--region", "Leeds".</param>
    /// <param name="configure">Changes settings at each start, after the subclass's defaults.</param>
    protected InProcNode(string name, string folderPrefix, string[] args, Action<NodeOptions>? configure)
    {
        Name = name;
        DataDir = Directory.CreateTempSubdirectory($"{folderPrefix}-{name}-").FullName;
        Port = Ports.Free();
        _args = args;
        _configure = configure;
    }

    /// <summary>
    /// Starts a node; <paramref name="configure"/> changes its settings and
    /// <paramref name="customize"/> its builder (logging, say) at each start.
    /// </summary>
    public static async Task<InProcNode> StartAsync(string name, Action<NodeOptions>? configure = null,
        Action<WebApplicationBuilder>? customize = null, string folderPrefix = "fed")
    {
        var node = new InProcNode(name, folderPrefix, [], configure) { Customize = customize };
        await node.StartAgainAsync();
        return node;
    }

    public string Name { get; }
    public string DataDir { get; }
    public int Port { get; }

    /// <summary>Extra settings applied at each start.</summary>
    public Action<NodeOptions>? Configure { get; set; }

    /// <summary>Extra services added at each start, e.g. a bus observer that slows the bus's start.</summary>
    public Action<WebApplicationBuilder>? Customize { get; set; }

    /// <summary>True when the node serves TLS ("--tls"): its address is https.</summary>
    public bool Tls { get; private set; }
    public string Address => $"{(Tls ? "https" : "http")}://127.0.0.1:{Port}";
    public bool Running => _app is not null;

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException($"{Name} is stopped.");
    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();
    public NodeIdentity Identity => Get<NodeIdentity>();

    /// <summary>Known while stopped too: the key lives in the data folder.</summary>
    public string NodeId { get; private set; } = "";

    public async Task StartAgainAsync()
    {
        _app = NodeHost.Build(["--name", Name, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", DataDir, .. _args], o =>
        {
            Defaults(o);
            _configure?.Invoke(o);
            Configure?.Invoke(o);
        }, builder =>
        {
            OnBuilding(builder);
            Customize?.Invoke(builder);
        });
        await _app.StartAsync();
        NodeId = Identity.NodeId;
        Tls = Get<IOptions<NodeOptions>>().Value.Tls;
        OnStarted();
    }

    /// <summary>Settings for every start, before the ones the test gives.</summary>
    protected virtual void Defaults(NodeOptions o)
    {
    }

    /// <summary>Changes to the builder for every start, before <see cref="Customize"/>.</summary>
    protected virtual void OnBuilding(WebApplicationBuilder builder)
    {
    }

    /// <summary>Called once the node serves (clients, say).</summary>
    protected virtual void OnStarted()
    {
    }

    /// <summary>Called before the node stops (dispose clients, say).</summary>
    protected virtual void OnStopping()
    {
    }

    /// <summary>This node's operator adds the node at <paramref name="address"/>, as `solnet peer add` does.</summary>
    public Task AddPeerAsync(string address, string fingerprint) =>
        Get<PeerDirectory>().AddAsync(address, fingerprint, CancellationToken.None);

    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }
        OnStopping();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
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
            // A file still open on a slow file system is not worth failing a test over.
        }
        GC.SuppressFinalize(this);
    }
}
