using System.Security.Authentication;
using Federation.Domain;
using Grpc.Core;

namespace Federation.Node.Delivery;

/// <summary>
/// A peer's TLS certificate carries another key than the one expected at its address:
/// the node there is not the node that was pinned. Thrown from the certificate check so
/// its message reaches the caller's error (and the peer's last error) instead of a
/// generic handshake failure.
/// </summary>
public sealed class PeerCertificateMismatchException(string address, string expected, string? presented)
    : AuthenticationException(presented is null
        ? $"The node at {address} presented no certificate with a node key; expected {Identifiers.Fingerprint(expected)}."
        : $"The node at {address} presented a TLS certificate for {Identifiers.Fingerprint(presented)}, not {Identifiers.Fingerprint(expected)}: it is not the node pinned for that address.")
{
    public string Address { get; } = address;
    public string Expected { get; } = expected;
    public string? Presented { get; } = presented;

    /// <summary>The mismatch behind a failed call, if that is why it failed.</summary>
    public static PeerCertificateMismatchException? In(RpcException ex)
    {
        for (Exception? e = ex.Status.DebugException; e is not null; e = e.InnerException)
        {
            if (e is PeerCertificateMismatchException m)
            {
                return m;
            }
        }
        return null;
    }
}
