using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Security;
using System.Text;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// gRPC clients for peers: one channel per address (over TLS, per address and expected
/// peer), reused. Every call names this node in signed metadata and carries a deadline.
/// </summary>
public sealed class PeerClients(NodeIdentity identity, IOptions<NodeOptions> options, NodeClock clock, Peering.LocalProtocol protocol) : IDisposable
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

    /// <summary>
    /// A client for the peer <paramref name="peerNodeId"/> at <paramref name="address"/>.
    /// Over https the peer's certificate must carry the key that hashes to
    /// <paramref name="peerNodeId"/>, and this node presents its own: mutual TLS bound to
    /// the pinned keys. A node running TLS itself calls no peer over cleartext.
    /// </summary>
    public PeerService.PeerServiceClient For(string address, string peerNodeId)
    {
        var https = address.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        if (!https && options.Value.Tls)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"This node runs with TLS, so it calls no peer over cleartext, and {address} is not an https:// address. Peers of a TLS node run TLS too."));
        }
        // Over TLS a channel is bound to the node it expects, so one address checked
        // against two ids (a re-added peer) never shares a validated connection.
        var channel = https
            ? _channels.GetOrAdd($"{address}#{peerNodeId}", _ => NewChannel(address, TlsHandler(address, peerNodeId)))
            : _channels.GetOrAdd(address, _ => NewChannel(address, null));
        return new PeerService.PeerServiceClient(channel);
    }

    private GrpcChannel NewChannel(string address, HttpMessageHandler? handler) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = handler is not null,
            MaxReceiveMessageSize = options.Value.MaxMessageBytes,
            ServiceConfig = Retry,
            // The channel's own reconnect backoff (up to two minutes by default) would keep
            // failing calls to a peer that is back; when to retry is decided in the database.
            MaxReconnectBackoff = TimeSpan.FromSeconds(5),
        });

    private SocketsHttpHandler TlsHandler(string address, string peerNodeId) => new()
    {
        // What GrpcChannel sets on the handler it makes for itself.
        EnableMultipleHttp2Connections = true,
        SslOptions = new SslClientAuthenticationOptions
        {
            // Presented whether or not this node serves TLS: the key is the node's identity either way.
            ClientCertificateContext = SslStreamCertificateContext.Create(identity.Certificate, additionalCertificates: null),
            // Not the CA chain, the name or the dates: peers' certificates are self-signed,
            // and the pinned key is the whole of the trust.
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                var presented = NodeCertificate.NodeIdOf(certificate);
                return presented == peerNodeId ? true : throw new PeerCertificateMismatchException(address, peerNodeId, presented);
            },
        },
    };

    /// <summary>Call options for <paramref name="method"/> on the peer <paramref name="calleeNodeId"/>.</summary>
    public CallOptions Options(string calleeNodeId, string method, CancellationToken ct, TimeSpan? timeout = null)
    {
        var ts = clock.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var signature = identity.Sign(Encoding.UTF8.GetBytes(CallSigningString(method, ts, identity.NodeId, calleeNodeId)));
        var headers = new Metadata
        {
            { NodeHeader, identity.NodeId },
            { TimeHeader, ts },
            { SignatureHeader, Convert.ToBase64String(signature) },
            { Peering.PeerProtocols.Header, protocol.Header },
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
