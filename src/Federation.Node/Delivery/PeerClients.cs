using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Federation.Contracts.V1;
using Federation.Node.Hosting;
using Federation.Node.Identity;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// gRPC clients for peers: one channel per address, reused. Every call names this
/// node in signed metadata and carries a deadline.
/// </summary>
public sealed class PeerClients(NodeIdentity identity, IOptions<NodeOptions> options) : IDisposable
{
    public const string NodeHeader = "x-fed-node";
    public const string TimeHeader = "x-fed-ts";
    public const string SignatureHeader = "x-fed-sig";

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new();

    // gRPC's own retry, for a call that could not reach the peer at all; every peer call
    // is safe to repeat (deliveries and submissions are deduplicated, the rest only read).
    // The deadline still bounds the call with all its attempts.
    // See https://learn.microsoft.com/aspnet/core/grpc/retries
    private static readonly ServiceConfig Retry = new()
    {
        MethodConfigs =
        {
            new MethodConfig
            {
                Names = { MethodName.Default },
                RetryPolicy = new RetryPolicy
                {
                    MaxAttempts = 3,
                    InitialBackoff = TimeSpan.FromMilliseconds(200),
                    MaxBackoff = TimeSpan.FromSeconds(2),
                    BackoffMultiplier = 2,
                    RetryableStatusCodes = { StatusCode.Unavailable },
                },
            },
        },
    };

    public PeerService.PeerServiceClient For(string address) =>
        new(_channels.GetOrAdd(address, a => GrpcChannel.ForAddress(a, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = options.Value.MaxMessageBytes,
            ServiceConfig = Retry,
            // The channel's own reconnect backoff (up to two minutes by default) would keep
            // failing calls to a peer that is back; when to retry is decided in the database.
            MaxReconnectBackoff = TimeSpan.FromSeconds(5),
        })));

    /// <summary>Call options for <paramref name="method"/> on the peer <paramref name="calleeNodeId"/>.</summary>
    public CallOptions Options(string calleeNodeId, string method, CancellationToken ct, TimeSpan? timeout = null)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var signature = identity.Sign(Encoding.UTF8.GetBytes(CallSigningString(method, ts, identity.NodeId, calleeNodeId)));
        var headers = new Metadata
        {
            { NodeHeader, identity.NodeId },
            { TimeHeader, ts },
            { SignatureHeader, Convert.ToBase64String(signature) },
        };
        return new CallOptions(headers, DateTime.UtcNow + (timeout ?? options.Value.PeerCallTimeout), ct);
    }

    /// <summary>What a caller signs: the method, the time, who calls and who is called, so a captured header cannot be reused elsewhere.</summary>
    public static string CallSigningString(string method, string ts, string caller, string callee) =>
        $"{method}\n{ts}\n{caller}\n{callee}";

    public void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
    }
}
