using Federation.Contracts.V1;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// A federation of node processes, each on the suite's broker in a virtual host of its
/// own, with a fault proxy on every directed link (a's calls to b go through
/// Link(a, b)) and between every node and the broker. Every node peers with every other.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly Dictionary<(int From, int To), FaultProxy> _links = [];

    // Fixed in length; a slot changes when a network moves to a new server (MoveAsync).
    private readonly List<FaultNode> _nodes;

    private Cluster(Rabbit broker, List<FaultNode> nodes, IReadOnlyList<FaultProxy> amqp)
    {
        Broker = broker;
        _nodes = nodes;
        Amqp = amqp;
    }

    public Rabbit Broker { get; }

    /// <summary>The nodes, one slot per network: the workload and the checker read this same list.</summary>
    public IReadOnlyList<FaultNode> Nodes => _nodes;

    /// <summary>Amqp[i] sits between node i and the broker.</summary>
    public IReadOnlyList<FaultProxy> Amqp { get; }

    public IEnumerable<FaultProxy> Links => _links.Values;

    public FaultProxy Link(FaultNode from, FaultNode to) => _links[(Index(from), Index(to))];

    private int Index(FaultNode n) => _nodes.IndexOf(n);

    /// <summary>Settings every node gets: quick retries so a scenario heals in seconds.</summary>
    public static Dictionary<string, string> Fast(int amqpPort, string vhost) => new()
    {
        ["Node__Bus"] = "rabbitmq",
        ["Node__RabbitMq__Host"] = "127.0.0.1",
        ["Node__RabbitMq__Port"] = amqpPort.ToString(),
        ["Node__RabbitMq__VirtualHost"] = vhost,
        ["Node__DashboardPort"] = "0",
        ["Node__DispatchInterval"] = "00:00:00.200",
        ["Node__RetryBaseDelay"] = "00:00:00.200",
        ["Node__RetryMaxDelay"] = "00:00:02",
        ["Node__PeerCallTimeout"] = "00:00:05",
        ["Node__PeerCircuitBreakDuration"] = "00:00:01",
        ["Node__CatchUpInterval"] = "00:00:30",
        ["Node__DelegateRequestsPerSecond"] = "1000",
    };

    public static async Task<Cluster> StartAsync(Rabbit broker, int count, Action<int, Dictionary<string, string>>? settings = null)
    {
        string[] names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
        var amqp = new List<FaultProxy>();
        var nodes = new List<FaultNode>();
        for (var i = 0; i < count; i++)
        {
            var proxy = new FaultProxy($"{names[i]}->rabbitmq", broker.Port);
            amqp.Add(proxy);
            var s = Fast(proxy.Port, await broker.NewVirtualHostAsync(names[i]));
            settings?.Invoke(i, s);
            nodes.Add(new FaultNode(names[i], s));
        }
        var cluster = new Cluster(broker, nodes, amqp);
        try
        {
            // In parallel: a node takes seconds to start on a busy machine.
            await Task.WhenAll(nodes.Select(n => n.StartAsync()));
            for (var a = 0; a < count; a++)
            {
                for (var b = 0; b < count; b++)
                {
                    if (a != b)
                    {
                        cluster._links[(a, b)] = new FaultProxy($"{names[a]}->{names[b]}", nodes[b].Port);
                    }
                }
            }
            foreach (var ((a, b), proxy) in cluster._links)
            {
                // a reaches b only through the proxy: that is the address a's operator adds.
                await nodes[a].Delegate.AddPeerAsync(new AddPeerRequest { Address = proxy.Address, Fingerprint = nodes[b].Fingerprint },
                    nodes[a].Auth, DateTime.UtcNow.AddSeconds(30));
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Restarts <paramref name="node"/> with changed settings (SIGKILL, then start on the same data).</summary>
    public static async Task RestartAsync(FaultNode node, Action<Dictionary<string, string>> change)
    {
        node.Kill();
        change(node.Settings);
        await node.StartAsync();
    }

    /// <summary>
    /// Where the network in <paramref name="slot"/>'s place reaches each of the others (its
    /// links), with their fingerprints: what a new server's operator adds as its peers.
    /// </summary>
    public IReadOnlyList<AddPeerRequest> PeersFor(FaultNode slot)
    {
        var i = Index(slot);
        return [.. _nodes.Select((n, a) => (n, a)).Where(x => x.a != i)
            .Select(x => new AddPeerRequest { Address = _links[(i, x.a)].Address, Fingerprint = x.n.Fingerprint })];
    }

    /// <summary>
    /// The network of <paramref name="from"/> (seized: its process killed) now runs on
    /// <paramref name="to"/>, a new server with a data folder and port of its own (issue 16 #4):
    /// each peer reaches it through a new proxy, and each peer's operator adds it again at that
    /// address (<c>solnet peer add</c>, the same delegate call), as docs/operators.md says an
    /// operator who reaches a peer through a proxy does (such an address was never announced,
    /// so it is not followed by itself). Then <paramref name="to"/> takes <paramref name="from"/>'s
    /// slot, where the workload and the checker find it.
    /// </summary>
    public async Task MoveAsync(FaultNode from, FaultNode to)
    {
        var i = Index(from);
        for (var a = 0; a < _nodes.Count; a++)
        {
            if (a == i)
            {
                continue;
            }
            var old = _links[(a, i)];
            _links[(a, i)] = new FaultProxy($"{_nodes[a].Name}->{to.Name}", to.Port);
            await old.DisposeAsync();
            await _nodes[a].Delegate.AddPeerAsync(new AddPeerRequest { Address = _links[(a, i)].Address, Fingerprint = to.Fingerprint },
                _nodes[a].Auth, DateTime.UtcNow.AddSeconds(30));
        }
        _nodes[i] = to;
    }

    /// <summary>Every link to and from <paramref name="node"/>: reset and refused.</summary>
    public void CutOff(FaultNode node, bool cut)
    {
        foreach (var ((a, b), proxy) in _links)
        {
            if (Nodes[a] == node || Nodes[b] == node)
            {
                proxy.SetCut(cut);
            }
        }
    }

    /// <summary>Links across the two halves go silent (bytes held, as in a partition); links within each half work.</summary>
    public void Partition(IReadOnlyCollection<FaultNode> half)
    {
        foreach (var ((a, b), proxy) in _links)
        {
            if (half.Contains(Nodes[a]) != half.Contains(Nodes[b]))
            {
                proxy.Blackhole(true);
            }
        }
    }

    /// <summary>Every proxy back to a clean link.</summary>
    public void HealNetwork()
    {
        foreach (var p in _links.Values.Concat(Amqp))
        {
            p.Heal();
        }
    }

    public string Logs() => string.Join("\n", Nodes.Select(n => n.LogTail()));

    public async ValueTask DisposeAsync()
    {
        foreach (var n in Nodes)
        {
            await n.DisposeAsync();
        }
        foreach (var p in _links.Values.Concat(Amqp))
        {
            await p.DisposeAsync();
        }
    }
}
