using System.Net;
using System.Security.Cryptography;
using Federation.Core;
using Federation.Node.Dashboard;

namespace Federation.Node.Hosting;

/// <summary>
/// A node starts in cleartext on loopback only: anywhere else, tokens, local details and
/// call-outs would cross the network readable by anyone on the path (docs/security.md,
/// "Transport"). The operator may say otherwise, with <c>--insecure-cleartext</c>.
/// </summary>
public static class TransportPolicy
{
    /// <summary>Refuses settings that would serve cleartext off loopback without the operator saying so.</summary>
    public static void Check(NodeOptions options)
    {
        if (options.Tls && options.ResolvedDashboardPort > 0 && options.DashboardCertificate.Length > 0)
        {
            try
            {
                using var _ = DashboardSetup.LoadCertificate(options);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                throw new NodeStartRefusedException(
                    $"Cannot serve the dashboard with '{options.DashboardCertificate}' (Node:DashboardCertificate and Node:DashboardCertificateKey, PEM files): {ex.Message}");
            }
        }
        if (options.Tls || options.InsecureCleartext)
        {
            return;
        }
        if (!IsLoopback(options.Host))
        {
            throw new NodeStartRefusedException(
                $"Refusing to listen on {options.Host} without TLS: delegates' tokens and call-outs would cross the network in clear. "
                + "Start with --tls (see docs/operators.md, \"TLS\"), listen on 127.0.0.1, or, on a private network you trust, say --insecure-cleartext.");
        }
        if (options.ResolvedDashboardPort > 0 && !IsLoopback(options.DashboardHost))
        {
            throw new NodeStartRefusedException(
                $"Refusing to serve the dashboard on {options.DashboardHost} without TLS: sign-in tokens and local details would cross the network in clear. "
                + "Start with --tls, keep --dashboard-host 127.0.0.1 (and reach it through an SSH tunnel or an HTTPS proxy), or say --insecure-cleartext.");
        }
    }

    /// <summary>What the node says on every start when the operator chose cleartext off loopback; null otherwise.</summary>
    public static string? Warning(NodeOptions options)
    {
        if (options.Tls || !options.InsecureCleartext)
        {
            return null;
        }
        var exposed = new List<string>();
        if (!IsLoopback(options.Host))
        {
            exposed.Add($"gRPC on {options.Host}:{options.Port}");
        }
        if (options.ResolvedDashboardPort > 0 && !IsLoopback(options.DashboardHost))
        {
            exposed.Add($"the dashboard on {options.DashboardHost}:{options.ResolvedDashboardPort}");
        }
        return exposed.Count == 0
            ? null
            : $"INSECURE: --insecure-cleartext: {string.Join(" and ", exposed)} in cleartext. Anyone on the network path can read tokens, "
              + "local details and call-outs. Use --tls unless a TLS proxy on a network you trust is in front.";
    }

    /// <summary>Only an address literal on loopback counts: a name could resolve anywhere.</summary>
    public static bool IsLoopback(string host) => IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
}
