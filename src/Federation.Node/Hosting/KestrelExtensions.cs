using Federation.Core;
using Federation.Core.Identity;
using Federation.Node.Dashboard;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Federation.Node.Hosting;

public static class KestrelExtensions
{
    /// <summary>The gRPC listener (cleartext or TLS), the request size limit and the dashboard's port.</summary>
    public static WebApplicationBuilder UseFederationKestrel(this WebApplicationBuilder builder, NodeOptions options)
    {
        if (options.Tls)
        {
            // The slim builder has HTTPS support off until asked for.
            builder.WebHost.UseKestrelHttpsConfiguration();
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            // gRPC over HTTP/2: cleartext on loopback for development, or TLS (Node:Tls);
            // see docs/security.md, "Transport".
            k.Listen(System.Net.IPAddress.Parse(options.Host), options.Port, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                if (options.Tls)
                {
                    var identity = k.ApplicationServices.GetRequiredService<NodeIdentity>();
                    l.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        // Chosen per connection: after a key rotation, new connections see the new key.
                        ServerCertificateSelector = (_, _) => identity.Certificate,
                        // Asked for, not required: delegate clients (solnet, grpcurl) have no
                        // certificate. Peer calls without one are refused by PeerAuthenticator.
                        ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                        // Peers' certificates are self-signed, so no chain would validate: whether
                        // one belongs to the node it claims to be is checked against the pinned
                        // keys in PeerAuthenticator, per call.
                        ClientCertificateValidation = (_, _, _) => true,
                    });
                }
            });
            k.Limits.MaxRequestBodySize = options.MaxMessageBytes + 1024;
            DashboardSetup.Listen(k, options);
        });
        return builder;
    }
}
