namespace Federation.Node.Tests;

/// <summary>Node processes on the test RabbitMQ, with quick retries.</summary>
public static class BrokerNode
{
    /// <summary>Quick retries so fault tests finish in seconds; a test overrides any of them.</summary>
    public static Dictionary<string, string> Fast(string vhost) => new()
    {
        ["Node__Bus"] = "rabbitmq",
        ["Node__RabbitMq__Host"] = "127.0.0.1",
        ["Node__RabbitMq__Port"] = Broker.Port.ToString(),
        ["Node__RabbitMq__VirtualHost"] = vhost,
        ["Node__DispatchInterval"] = "00:00:00.200",
        ["Node__RetryBaseDelay"] = "00:00:00.200",
        ["Node__RetryMaxDelay"] = "00:00:01",
        ["Node__PeerCallTimeout"] = "00:00:05",
        ["Node__PeerCircuitBreakDuration"] = "00:00:01",
        // These tests publish as fast as they can to put work in flight before a fault;
        // the per-token limit is tested on its own (HostileInputCatalogueTests), not here.
        ["Node__DelegateRequestsPerSecond"] = "10000",
    };

    /// <summary>Starts a node on the test RabbitMQ, in a virtual host of its own.</summary>
    public static async Task<NodeProcess> StartAsync(string name, Action<Dictionary<string, string>>? settings = null)
    {
        var s = Fast(await Broker.NewVirtualHostAsync(name));
        settings?.Invoke(s);
        var node = new NodeProcess(name, s);
        await node.StartAgainAsync();
        return node;
    }
}
