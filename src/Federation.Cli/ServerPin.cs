using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Cli;

/// <summary>
/// Talks to a TLS node only if its certificate carries the key named by the node's
/// fingerprint: the node's certificate is self-signed over its identity key, so the key
/// is checked, never a CA chain, a host name or dates.
/// </summary>
public static class ServerPin
{
    public static GrpcChannel Channel(string address, string fingerprint)
    {
        var expected = NodeId(fingerprint);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    {
                        var presented = KeyOf(certificate);
                        // Thrown rather than returning false, so the operator reads why, not a bare handshake failure.
                        return presented == expected ? true : throw new MismatchException(address, expected, presented);
                    },
                },
            },
            DisposeHttpClient = true,
        });
    }

    /// <summary>The server-certificate mismatch behind a failed call, if that is why it failed.</summary>
    public static MismatchException? In(RpcException ex)
    {
        for (Exception? e = ex.Status.DebugException; e is not null; e = e.InnerException)
        {
            if (e is MismatchException m)
            {
                return m;
            }
        }
        return null;
    }

    /// <summary>
    /// The network the certificate speaks for, as the node computes it: the hash of its key,
    /// or, for a node key its network certified (docs/adr/0022), the network that signed it.
    /// </summary>
    private static string? KeyOf(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return null;
        }
        using var cert = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        Contracts.NetworkSignatures.NetworkOf(cert, DateTimeOffset.UtcNow, out var networkId);
        return networkId;
    }

    private static string NodeId(string fingerprint)
    {
        var id = new string(fingerprint.Where(c => c is not ('-' or ' ' or ':')).ToArray()).ToLowerInvariant();
        return id.Length == 32 && id.All(char.IsAsciiHexDigitLower)
            ? id
            : throw new UsageException($"'{fingerprint}' is not a node fingerprint: expected 32 hex digits, as shown by the node at start-up.");
    }

    private static string Grouped(string id) => string.Join('-', id.Chunk(4).Select(c => new string(c)));

    public sealed class MismatchException(string address, string expected, string? presented) : AuthenticationException(
        $"The node at {address} is not the one expected: its TLS certificate is for {(presented is null ? "no node key" : Grouped(presented))}, not {Grouped(expected)}. Nothing was sent. Check the address and the fingerprint with the node's operator.");
}
