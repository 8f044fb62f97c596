using Federation.Contracts;
using System.Globalization;
using System.Text;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Delivery;
using Federation.Node.Peering;
using Federation.Node.Security;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>
/// Establishes which peer is calling: the caller names itself and signs the method,
/// the time and both node ids with its key. A node accepts nothing from a node its
/// operator has not added. Over TLS the caller must also present, as its client
/// certificate, the key it names: the connection itself is bound to the pinned key.
/// </summary>
public sealed class PeerAuthenticator(IPeerReads store, PeerKeys keys, NodeIdentity identity, PeerDirectory peers, PeerProtocols protocols,
    RateLimits limits, CatchUpSignal catchUp, NodeClock clock, SeenCalls seen)
{
    public static readonly TimeSpan ClockWindow = TimeSpan.FromMinutes(5);

    private bool OutsideClockWindow(long ms) => (clock.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(ms)).Duration() > ClockWindow;

    public async Task<PeerRecord> AuthenticateAsync(ServerCallContext context)
    {
        var caller = context.RequestHeaders.GetValue(PeerClients.NodeHeader) ?? "";
        var ts = context.RequestHeaders.GetValue(PeerClients.TimeHeader) ?? "";
        var sig = context.RequestHeaders.GetValue(PeerClients.SignatureHeader) ?? "";
        var callId = context.RequestHeaders.GetValue(PeerClients.CallIdHeader) ?? "";
        var bodyHash = context.RequestHeaders.GetValue(PeerClients.BodyHashHeader) ?? "";
        var protocolHeader = context.RequestHeaders.GetValue(PeerProtocols.Header);
        if (!Identifiers.IsNodeId(caller) || ts.Length == 0 || sig.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"Peer calls must name the calling node and sign the call ({PeerClients.NodeHeader}, {PeerClients.TimeHeader}, {PeerClients.SignatureHeader})."));
        }
        if (PeerClients.AlgorithmOf(context.RequestHeaders.GetValue(PeerClients.AlgorithmHeader)) is null)
        {
            // Said before the signature is checked: it tells nothing about this node's peers.
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"The call is signed with algorithm {Text.FromPeer(context.RequestHeaders.GetValue(PeerClients.AlgorithmHeader) ?? "")} ({PeerClients.AlgorithmHeader}), "
                + "which this node cannot verify (it knows ECDSA P-256, 1): sign calls to it with an algorithm it advertises (signatures.* in its Hello)."));
        }
        RequireCertificateOf(caller, context);
        var peer = store.GetPeer(caller);
        if (peer is not null)
        {
            keys.Sync(caller, peer);
        }
        // Nothing about peering state goes to a caller whose signature has not verified:
        // unknown, unreadable and forged calls all get the one answer below. Only a caller
        // proven to hold the key of a node this one knows learns that node's state.
        if (peer is null || !long.TryParse(ts, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() || !TryBase64(sig, out var signature))
        {
            throw NotAuthenticated();
        }
        var bodyBound = callId.Length > 0 || bodyHash.Length > 0;
        if (bodyBound ? !Guid.TryParseExact(callId, "D", out _) || bodyHash != ExpectedBodyHash(context)
            // The old signature binds no body and no call id: it is taken only from a
            // release before the exchange (0.1.0), which names no protocol on its calls, and
            // only while this node knows of no newer protocol from that peer. Once a peer
            // has upgraded, an old-format call in its name is a replay and refused.
            : protocolHeader is not null || !StoredAsBeforeExchange(caller))
        {
            throw NotAuthenticated();
        }
        var signing = bodyBound
            ? PeerClients.CallSigningString(context.Method, ts, caller, identity.NodeId, callId, bodyHash)
            : PeerClients.LegacySigningString(context.Method, ts, caller, identity.NodeId);
        var signed = Encoding.UTF8.GetBytes(signing);
        // The gate verified this very signature with the stored key before reading the
        // body: once is enough. A suspended or revoked peer's key is no longer cached; its
        // stored key still proves who is calling, so that node (and only it) is told why
        // it is refused.
        var verified = context.GetHttpContext().Items[PeerCallGate.VerifiedItem] as PeerCallGate.VerifiedCall == new PeerCallGate.VerifiedCall(caller, signing, sig)
            || (PeerClients.TryCertificate(context.RequestHeaders.GetValue(PeerClients.CertificateHeader), out var certificate)
                && (keys.WhyNot(caller, certificate, DateTimeOffset.FromUnixTimeMilliseconds(ms), SignedKind.Call, signed, signature, peer.PublicKey) is null
                    // A call whose time is off by more than the window is refused for the clock
                    // below, which the caller retries. Its key is judged by this node's time
                    // then: the caller's wrong time may fall before a key certified minutes ago,
                    // and the call would read as forged, and be given up, instead.
                    || OutsideClockWindow(ms) && keys.WhyNot(caller, certificate, clock.UtcNow, SignedKind.Call, signed, signature, peer.PublicKey) is null));
        if (!verified)
        {
            throw NotAuthenticated();
        }
        if (!PeerStates.Reachable(peer.State))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"Node {Identifiers.Fingerprint(caller)} has been {peer.State} by this node's operator."));
        }
        if (OutsideClockWindow(ms))
        {
            // Marked as a clock refusal: the caller retries it instead of parking its items
            // as dead letters, because it stops once either clock is put right.
            throw WireRefusals.ToRpc(new RuleViolation(RefusalKind.Unauthenticated, Rules.ClockSkew,
                $"The call's time is more than {ClockWindow.TotalMinutes} minutes from this node's clock; check both clocks."));
        }
        // Remembered once the call is authenticated, so that a call that never got here (a
        // lost connection) does not spend its id; gRPC retries are off for peer calls, as a
        // retry would resend the same id (PeerClients).
        if (bodyBound && !seen.TryClaim(caller, callId, ms + (long)ClockWindow.TotalMilliseconds, clock.UtcNow.ToUnixTimeMilliseconds(), out var full))
        {
            throw full
                ? new RpcException(new Status(StatusCode.ResourceExhausted, "This node is remembering too many recent calls to take another now; try again in a few minutes."))
                : new RpcException(new Status(StatusCode.Unauthenticated,
                    $"This node has already taken a call with id {callId} from your node: each signed call is taken once. If you run the calling node, this is a replay, not your software."));
        }
        limits.ForPeer(caller);
        await protocols.CheckCallAsync(peer, protocolHeader, saysItself: context.Method == Methods.Hello, context.CancellationToken);
        if (peer.State == PeerStates.Pending)
        {
            // A signed call from a node we added proves it has added us too.
            await peers.MarkActiveAsync(caller, context.CancellationToken);
            peer = peer with { State = PeerStates.Active };
        }
        // A peer we could not pull from is calling us: it is back, so catch up from it.
        catchUp.Heard(caller);
        return peer;
    }

    /// <summary>
    /// For a call that stays open (a stream), checked again before each message: the
    /// caller's row may have been suspended or revoked since the call began, by this
    /// process or another replica sharing the store, and that ends the call at once.
    /// </summary>
    public void RequireStillPeer(string caller)
    {
        var peer = store.GetPeer(caller);
        if (!keys.Sync(caller, peer))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"Node {Identifiers.Fingerprint(caller)} has been {peer?.State ?? "removed"} by this node's operator; this call ends here."));
        }
    }

    /// <summary>
    /// The one answer for every call that fails before its signature verifies: it says what
    /// a genuine caller's operator should check, and nothing about who this node knows.
    /// </summary>
    public static RpcException NotAuthenticated() => new(new Status(StatusCode.Unauthenticated,
        $"This node could not authenticate the call. It accepts calls only from nodes its operator has added, signed with that node's key "
        + $"within {ClockWindow.TotalMinutes} minutes of its clock: if you run the calling node, check that both operators added each other (address and fingerprint) and both clocks."));

    /// <summary>
    /// The hash the call must have signed: of the request message the gate read (unary
    /// calls), or of nothing for SubmitStream, whose messages are each a signed submission.
    /// </summary>
    private static string? ExpectedBodyHash(ServerCallContext context) =>
        context.Method == Methods.SubmitStream
            ? PeerClients.BodyHash([])
            : context.GetHttpContext().Items[PeerCallGate.BodyHashItem] as string;

    private bool StoredAsBeforeExchange(string caller) =>
        store.PeerProtocol(caller) is null or { IsBeforeExchange: true };

    internal static bool TryBase64(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }

    /// <summary>
    /// Over TLS, the calling node proves itself twice: the signed headers, and a client
    /// certificate over the same key. Signed headers alone could be reused, within the
    /// clock window, by whoever saw them; the certificate binds the connection itself to
    /// the pinned key. Cleartext calls get past this only on a node without TLS (with TLS
    /// the gRPC port speaks nothing else).
    /// </summary>
    private void RequireCertificateOf(string caller, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        if (!http.Request.IsHttps)
        {
            return;
        }
        var presented = NodeCertificate.NodeIdOf(http.Connection.ClientCertificate, keys, clock.UtcNow);
        if (presented is null)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"Peer calls over TLS must present the calling node's certificate (made from its node key); this call names {Identifiers.Fingerprint(caller)} but presented none."));
        }
        if (presented != caller)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"The client certificate is for {Identifiers.Fingerprint(presented)}, but the call names {Identifiers.Fingerprint(caller)}: a node must present the certificate made from its own key."));
        }
    }
}
