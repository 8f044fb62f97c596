using Federation.Contracts;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// gRPC clients for peers: one channel per address (over TLS, per address and expected
/// peer), reused. Every call names this node in signed metadata and carries a deadline.
/// </summary>
public sealed class PeerClients(NodeIdentity identity, IOptions<NodeOptions> options, NodeClock clock, Peering.LocalProtocol protocol, IPeerReads store,
    PeerKeys keys) : IDisposable
{
    public const string NodeHeader = "x-fed-node";
    public const string TimeHeader = "x-fed-ts";
    public const string SignatureHeader = "x-fed-sig";

    /// <summary>A unique id for the call (a UUID), signed; a node refuses one it has seen within the clock window.</summary>
    public const string CallIdHeader = "x-fed-call";

    /// <summary>The SHA-256 of the request message's bytes (base64), signed; the receiver checks the body against it.</summary>
    public const string BodyHashHeader = "x-fed-body";

    /// <summary>The signature's algorithm, as the number of its <see cref="SignatureAlgorithm"/>; absent means ECDSA P-256, as 0.1.0 signed.</summary>
    public const string AlgorithmHeader = "x-fed-sig-alg";

    /// <summary>
    /// The certificate of the node key that signed the call (base64 of a CertifiedKey), when
    /// the caller's network key is off its server (docs/adr/0022); absent, the network key signed.
    /// </summary>
    public const string CertificateHeader = "x-fed-cert";

    /// <summary>The call's algorithm header: a known algorithm, or null for one this build cannot verify.</summary>
    public static SignatureAlgorithm? AlgorithmOf(string? header) =>
        header is null or "" ? SignatureAlgorithm.Unspecified
        : int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && SignatureAlgorithms.CanVerify((SignatureAlgorithm)n) ? (SignatureAlgorithm)n
        : null;

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new();

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
            // No gRPC retries: a retry resends the same signed headers, and the callee refuses
            // a call id it has seen. The delivery loop and catch-up retry with fresh headers.
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
            // Presented whether or not this node serves TLS: the key is the node's identity either
            // way. Chosen per connection, so a connection made after a key rotation shows the new key.
            LocalCertificateSelectionCallback = (_, _, _, _, _) => identity.Certificate,
            // Not the CA chain, the name or the dates: peers' certificates are self-signed,
            // and the pinned key is the whole of the trust.
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                var presented = NodeCertificate.NodeIdOf(certificate, keys, clock.UtcNow);
                return presented == peerNodeId ? true : throw new PeerCertificateMismatchException(address, peerNodeId, presented);
            },
        },
    };

    /// <summary>
    /// Call options for <paramref name="method"/> on the peer <paramref name="calleeNodeId"/>,
    /// signed over <paramref name="request"/> (none for a streaming call: each message of
    /// SubmitStream is itself a signed submission).
    /// </summary>
    public CallOptions Options(string calleeNodeId, string method, CancellationToken ct, TimeSpan? timeout = null, IMessage? request = null) =>
        Options(calleeNodeId, method, request is null ? [] : request.ToByteArray(), ct, timeout);

    /// <summary>Call options signed over the raw request message bytes <paramref name="body"/>.</summary>
    public CallOptions Options(string calleeNodeId, string method, byte[] body, CancellationToken ct, TimeSpan? timeout = null)
    {
        var ts = clock.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var headers = new Metadata
        {
            { NodeHeader, identity.NodeId },
            { TimeHeader, ts },
            { Peering.PeerProtocols.Header, protocol.Header },
        };
        // One key for the signature, its algorithm and the certificate named beside it, even if a rotation lands meanwhile.
        var key = identity.Current;
        string signing;
        if (CalleeSignsTheOldWay(calleeNodeId))
        {
            signing = LegacySigningString(method, ts, identity.NodeId, calleeNodeId);
        }
        else
        {
            var callId = Guid.NewGuid().ToString();
            var bodyHash = BodyHash(body);
            headers.Add(CallIdHeader, callId);
            headers.Add(BodyHashHeader, bodyHash);
            headers.Add(AlgorithmHeader, ((int)key.Algorithm).ToString(CultureInfo.InvariantCulture));
            signing = CallSigningString(method, ts, identity.NodeId, calleeNodeId, callId, bodyHash);
        }
        headers.Add(SignatureHeader, Convert.ToBase64String(key.Sign(SignedKind.Call, Encoding.UTF8.GetBytes(signing))));
        if (key.Certificate is { } certificate)
        {
            headers.Add(CertificateHeader, certificate.ToByteString().ToBase64());
        }
        return new CallOptions(headers, DateTime.UtcNow + (timeout ?? options.Value.PeerCallTimeout), ct);
    }

    // A release before the exchange (0.1.0) checks only the old signature; every other
    // callee, one of which nothing is known yet included, is sent the body-bound one.
    private bool CalleeSignsTheOldWay(string calleeNodeId) =>
        store.PeerProtocol(calleeNodeId) is { IsBeforeExchange: true };

    /// <summary>The body hash a caller signs: SHA-256 over the request message's bytes, base64.</summary>
    public static string BodyHash(ReadOnlySpan<byte> body) => Convert.ToBase64String(SHA256.HashData(body));

    /// <summary>
    /// What a caller signs (protocol 1.1): the method, the time, who calls and who is called,
    /// the call's unique id and its body's hash, so that a captured header set works for no
    /// other method, node, body or second call.
    /// </summary>
    public static string CallSigningString(string method, string ts, string caller, string callee, string callId, string bodyHash) =>
        $"fed-call-1.1\n{method}\n{ts}\n{caller}\n{callee}\n{callId}\n{bodyHash}";

    /// <summary>What 0.1.0 signs and checks (protocol 1.0): no body, no call id. Used only with such peers.</summary>
    public static string LegacySigningString(string method, string ts, string caller, string callee) =>
        $"{method}\n{ts}\n{caller}\n{callee}";

    /// <summary>
    /// Drops every connection to peers, for a key rotation: a TLS connection keeps the
    /// certificate it was made with, and peers refuse the old key once it is revoked. Calls
    /// under way on them fail and are retried on new connections, which show the new key.
    /// </summary>
    public void Reconnect()
    {
        foreach (var (address, channel) in _channels)
        {
            if (_channels.TryRemove(address, out _))
            {
                channel.Dispose();
            }
        }
    }

    /// <summary>The certificate a call names, null when it names none; false when the header is there but unreadable.</summary>
    public static bool TryCertificate(string? header, out CertifiedKey? certificate)
    {
        certificate = null;
        if (string.IsNullOrEmpty(header))
        {
            return true;
        }
        try
        {
            certificate = CertifiedKey.Parser.ParseFrom(Convert.FromBase64String(header));
            return true;
        }
        catch (Exception e) when (e is FormatException or InvalidProtocolBufferException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
    }
}
