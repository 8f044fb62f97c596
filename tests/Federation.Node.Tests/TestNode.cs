using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Storage;
using Federation.Node.Delivery;
using Federation.Storage;
using Federation.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Federation.Node.Tests;

/// <summary>
/// An <see cref="InProcNode"/> with quick retries and sweeps, clients for its delegate and
/// peer services, and what it logs captured.
/// </summary>
public sealed class TestNode : InProcNode
{
    private GrpcChannel? _channel;

    private TestNode(string name, string[] extraArgs, Action<NodeOptions>? configure)
        : base(name, "fed", [.. FastCallOuts, .. extraArgs], configure)
    {
    }

    /// <summary>Everything the node logged, for tests that check what logs must not carry.</summary>
    public CapturedLogs Logs { get; } = new();

    // The in-process test nodes are embedded ones: SQLite, whose file the tests also read.
    public SqliteStore Store => (SqliteStore)Services.GetRequiredService<IFederationStore>();

    public DelegateService.DelegateServiceClient Delegate { get; private set; } = null!;
    public PeerService.PeerServiceClient Peer { get; private set; } = null!;
    public Metadata Auth { get; private set; } = null!;

    /// <summary>Starts a node; <paramref name="extraArgs"/> are more command-line settings, e.g. "--region", "Leeds".</summary>
    public static Task<TestNode> StartAsync(string name, params string[] extraArgs) => StartAsync(name, null, extraArgs);

    /// <summary>Starts a node; <paramref name="configure"/> changes settings after the test defaults.</summary>
    public static async Task<TestNode> StartAsync(string name, Action<NodeOptions>? configure, params string[] extraArgs)
    {
        var node = new TestNode(name, extraArgs, configure);
        await node.StartAgainAsync();
        return node;
    }

    /// <summary>
    /// The same network on a new server: a node started from a copy of <paramref name="from"/>'s
    /// data folder (stopped first), on a port of its own.
    /// </summary>
    public static async Task<TestNode> StartRestoredAsync(TestNode from)
    {
        var node = new TestNode(from.Name, [], null);
        foreach (var file in Directory.GetFiles(from.DataDir))
        {
            File.Copy(file, Path.Combine(node.DataDir, Path.GetFileName(file)), overwrite: true);
        }
        await node.StartAgainAsync();
        return node;
    }

    /// <summary>A node whose data folder <paramref name="prepare"/> fills before its first start (solnet network new-server, say).</summary>
    public static async Task<TestNode> StartPreparedAsync(string name, Func<string, Task> prepare, params string[] extraArgs)
    {
        var node = new TestNode(name, extraArgs, null);
        await prepare(node.DataDir);
        await node.StartAgainAsync();
        return node;
    }

    protected override void Defaults(NodeOptions o)
    {
        // Quick retries so tests of failure and recovery finish in seconds.
        o.DispatchInterval = TimeSpan.FromMilliseconds(200);
        o.RetryBaseDelay = TimeSpan.FromMilliseconds(200);
        o.RetryMaxDelay = TimeSpan.FromSeconds(1);
        o.PeerCallTimeout = TimeSpan.FromSeconds(5);
        o.DashboardPort = 0; // the dashboard has its own tests; gRPC port + 3000 may be taken
        o.PeerCircuitBreakDuration = TimeSpan.FromSeconds(1);
        // Tests call as fast as they can; the per-token limit has its own tests, which set it low.
        o.DelegateRequestsPerSecond = 10_000;
    }

    protected override void OnBuilding(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);

    protected override void OnStarted()
    {
        // A delegate's channel, as solnet's: over TLS it pins the node's key and presents no certificate.
        _channel = Tls ? TlsChannels.Pinned(Address, NodeId) : GrpcChannel.ForAddress(Address);
        Delegate = new DelegateService.DelegateServiceClient(_channel);
        Peer = new PeerService.PeerServiceClient(_channel);
        Auth = new Metadata { { "authorization", "Bearer " + File.ReadAllText(Path.Combine(DataDir, "operator.token")).Trim() } };
    }

    protected override void OnStopping() => _channel?.Dispose();

    /// <summary>Quick call-out sweeps, notification polls and retries, so tests finish in seconds.</summary>
    private static readonly string[] FastCallOuts =
    [
        "--Node:ExpirySweepInterval", "00:00:00.2",
        "--Node:Notifications:ReminderSweepInterval", "00:00:00.2",
        "--Node:Notifications:PollInterval", "00:00:00.1",
        "--Node:Notifications:RetryBaseDelay", "00:00:00.2",
        "--Node:Notifications:RetryMaxDelay", "00:00:00.5",
        "--Node:Notifications:Timeout", "00:00:05",
        // The tests' webhook receivers listen on loopback, which a node refuses unless allowed
        // (WebhookTargetTests clears this to see the refusal).
        "--Node:Notifications:AllowedWebhookTargets:0", "127.0.0.1",
    ];

    /// <summary>Call options that authenticate this node to <paramref name="callee"/> as a peer.</summary>
    /// <remarks>Signed over <paramref name="request"/>, as a peer signs its call's body; none for SubmitStream.</remarks>
    public CallOptions AsPeerOf(TestNode callee, string method, Google.Protobuf.IMessage? request = null) =>
        Services.GetRequiredService<PeerClients>().Options(callee.NodeId, method, CancellationToken.None, request: request);

    /// <summary>Call options signed over the raw request message <paramref name="body"/>.</summary>
    public CallOptions AsPeerOf(TestNode callee, string method, byte[] body) =>
        Services.GetRequiredService<PeerClients>().Options(callee.NodeId, method, body, CancellationToken.None);

    public async Task AddPeerAsync(TestNode other) =>
        await Delegate.AddPeerAsync(new AddPeerRequest { Address = other.Address, Fingerprint = other.Identity.Fingerprint }, Auth);

    /// <summary>Points this node's record of <paramref name="peer"/> at a closed port (calls to it fail), or back.</summary>
    public Task CutAsync(TestNode peer, bool cut = true) => Get<IFederationStore>().WriteAsync(tx =>
    {
        var record = Get<IFederationStore>().GetPeer(peer.NodeId)!;
        tx.UpsertPeer(record with { Address = cut ? $"{(peer.Tls ? "https" : "http")}://127.0.0.1:9" : peer.Address });
        return true;
    });

    public Task<CallOutState> PublishAsync(params TestNode[] to) => Delegate.PublishSampleAsync(Auth, to.Select(n => n.NodeId));

    public Task CloseAsync(string callOutId) => Delegate.CloseAsync(Auth, callOutId);

    public PeerInfo PeerInfo(string nodeId) => Delegate.ListPeers(new ListPeersRequest(), Auth).Peers.Single(p => p.NodeId == nodeId);

    /// <summary>Both operators add each other: peering is mutual.</summary>
    public static async Task PeerAsync(params TestNode[] nodes)
    {
        foreach (var a in nodes)
        {
            foreach (var b in nodes.Where(b => b != a))
            {
                await a.AddPeerAsync(b);
            }
        }
    }

}

public static class Status
{
    /// <summary>Asserts the status code, showing the server's message when it differs.</summary>
    public static void Is(StatusCode expected, RpcException ex) =>
        Assert.True(ex.StatusCode == expected, $"Expected {expected}, got {ex.StatusCode}: {ex.Status.Detail}");
}

/// <summary>Collects every log line a node writes, with its arguments rendered.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
    }
}
