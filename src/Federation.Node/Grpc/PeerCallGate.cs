using Federation.Contracts;
using System.Buffers.Binary;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Node.Delivery;
using Federation.Storage;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Federation.Node.Grpc;

/// <summary>
/// Before grpc-dotnet reads a PeerService request, checks who is calling from the headers
/// alone (the node id, and the signature over method, time, ids, call id and body hash, by
/// that node's stored key). A caller whose signature does not verify, Identify's unsigned
/// callers included, may send at most <see cref="UnverifiedBodyBytes"/>: a stranger cannot
/// make this node read, buffer and parse megabytes. A verified unary call's body is read
/// here, once, and its message hashed for <see cref="PeerAuthenticator"/> to compare with
/// the signed hash; streaming calls are left to flow (each message is itself signed).
/// </summary>
public sealed class PeerCallGate(RequestDelegate next, IPeerReads store, NodeIdentity identity, PeerKeys keys, IOptions<NodeOptions> options)
{
    public const string PathPrefix = "/federation.v1.PeerService/";
    public const int UnverifiedBodyBytes = 64 * 1024;

    /// <summary>Where the gate leaves the SHA-256 of the verified call's request message for the authenticator.</summary>
    public const string BodyHashItem = "fed.body-hash";

    /// <summary>Where the gate leaves the call signature it verified, so that the authenticator does not verify it again.</summary>
    public const string VerifiedItem = "fed.verified-call";

    /// <summary>A signature that verified over <paramref name="Signing"/> with the caller's stored key.</summary>
    public sealed record VerifiedCall(string Caller, string Signing, string Signature);

    public async Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments("/federation.v1.PeerService", StringComparison.Ordinal))
        {
            await next(http);
            return;
        }
        var method = http.Request.Path.Value!;
        bool known;
        try
        {
            known = SignedByKnownPeer(http, method);
        }
        catch (Exception db) when (Stores.IsOutage(db))
        {
            // The caller's key comes from the peer roster the store holds in memory, but the
            // store reads the roster from the database again after a change, and that read
            // happens before grpc-dotnet runs, so its error mapping does not apply: a database
            // outage here is UNAVAILABLE too (the caller retries), not an HTTP 500.
            await RefuseAsync(http, ErrorInterceptor.DatabaseOutage);
            return;
        }
        if (!known)
        {
            Replace(http, new CappedStream(http.Request.Body, UnverifiedBodyBytes,
                $"This request is larger than this node reads from a caller it has not authenticated ({UnverifiedBodyBytes} bytes). "
                + PeerAuthenticator.NotAuthenticated().Status.Detail));
        }
        else if (method != Methods.SubmitStream)
        {
            // The caller is known: its body may be as large as any message this node takes
            // (one gRPC frame: five bytes of header, then the message).
            using var buffer = new MemoryStream();
            try
            {
                await new CappedStream(http.Request.Body, options.Value.MaxMessageBytes + 5L,
                    $"The request exceeds the maximum message size this node takes from a peer ({options.Value.MaxMessageBytes} bytes).")
                    .CopyToAsync(buffer, http.RequestAborted);
            }
            catch (RpcException refused)
            {
                // Outside grpc-dotnet a thrown status would be an HTTP 500: answer as gRPC does.
                await RefuseAsync(http, refused.Status);
                return;
            }
            var bytes = buffer.ToArray();
            if (MessageOf(bytes) is { } message)
            {
                http.Items[BodyHashItem] = PeerClients.BodyHash(message.Span);
            }
            Replace(http, new MemoryStream(bytes, writable: false));
        }
        await next(http);
    }

    /// <summary>A gRPC "trailers-only" answer: the status in the response headers, no message.</summary>
    private static Task RefuseAsync(HttpContext http, Status status)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/grpc";
        http.Response.Headers["grpc-status"] = ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The gRPC spec's percent-encoding of grpc-message; clients decode it.
        http.Response.Headers["grpc-message"] = Uri.EscapeDataString(status.Detail);
        return http.Response.CompleteAsync();
    }

    // One uncompressed gRPC frame: a zero flag byte, a big-endian length, then exactly that many bytes.
    private static ReadOnlyMemory<byte>? MessageOf(byte[] body) =>
        body.Length >= 5 && body[0] == 0 && BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1, 4)) == (uint)(body.Length - 5)
            ? body.AsMemory(5) : null;

    private static void Replace(HttpContext http, Stream body)
    {
        http.Request.Body = body;
        // grpc-dotnet reads the pipe; the server's own pipe feature would bypass the new stream.
        http.Features.Set<IRequestBodyPipeFeature>(new RequestBodyPipeFeature(http));
    }

    private bool SignedByKnownPeer(HttpContext http, string method)
    {
        var headers = http.Request.Headers;
        var caller = headers[PeerClients.NodeHeader].ToString();
        var ts = headers[PeerClients.TimeHeader].ToString();
        var callId = headers[PeerClients.CallIdHeader].ToString();
        var bodyHash = headers[PeerClients.BodyHashHeader].ToString();
        if (caller.Length == 0 || ts.Length == 0 || PeerClients.AlgorithmOf(headers[PeerClients.AlgorithmHeader].ToString()) is null
            || store.GetPeer(caller) is not { } peer
            || !PeerAuthenticator.TryBase64(headers[PeerClients.SignatureHeader].ToString(), out var signature))
        {
            return false;
        }
        var signing = callId.Length > 0 || bodyHash.Length > 0
            ? PeerClients.CallSigningString(method, ts, caller, identity.NodeId, callId, bodyHash)
            : PeerClients.LegacySigningString(method, ts, caller, identity.NodeId);
        if (!long.TryParse(ts, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            || !PeerClients.TryCertificate(headers[PeerClients.CertificateHeader].ToString(), out var certificate)
            || keys.WhyNot(caller, certificate, DateTimeOffset.FromUnixTimeMilliseconds(ms), SignedKind.Call, System.Text.Encoding.UTF8.GetBytes(signing), signature, peer.PublicKey) is not null)
        {
            return false;
        }
        http.Items[VerifiedItem] = new VerifiedCall(caller, signing, headers[PeerClients.SignatureHeader].ToString());
        return true;
    }

    /// <summary>Reads at most a limit; past it the call is refused as not authenticated, having read no more.</summary>
    private sealed class CappedStream(Stream inner, long limit, string refusal) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer[..Allowed(buffer.Length)]);
            return Count(n);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken);
            return Count(n);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // One byte past the limit is read, to tell "exactly the limit" from "more".
        private int Allowed(int wanted) => (int)Math.Min(wanted, limit + 1 - _read);

        private int Count(int n)
        {
            _read += n;
            if (_read > limit)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted, refusal));
            }
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
