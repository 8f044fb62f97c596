using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Federation.Core.Identity;
using Grpc.Net.Client;

namespace Federation.Testing;

/// <summary>Channels to TLS nodes for tests: the server is pinned by key, as the node and solnet do.</summary>
public static class TlsChannels
{
    /// <summary>
    /// A channel to <paramref name="address"/> that accepts only a server whose key hashes
    /// to <paramref name="nodeId"/>, presenting <paramref name="clientCertificate"/> if given.
    /// </summary>
    public static GrpcChannel Pinned(string address, string nodeId, X509Certificate2? clientCertificate = null) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificateContext = clientCertificate is null ? null : SslStreamCertificateContext.Create(clientCertificate, null),
                    RemoteCertificateValidationCallback = (_, cert, _, _) => NodeCertificate.NodeIdOf(cert) == nodeId,
                },
            },
            DisposeHttpClient = true,
        });
}
