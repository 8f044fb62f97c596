using System.Net;
using System.Net.Sockets;
using Federation.Domain;
using Microsoft.Extensions.Options;

namespace Federation.Node.Notifications;

/// <summary>
/// Where a webhook may point. A node's operator token should not turn the node into a way
/// of reaching what only the node can reach: its own loopback services, the cloud's
/// metadata address (169.254.169.254) or the private network behind it. Such targets are
/// refused unless the operator lists them in <c>Node:Notifications:AllowedWebhookTargets</c>
/// (host names, addresses or CIDR blocks). The name is checked when the webhook is added,
/// and the address actually dialled at every delivery, so a name that later resolves
/// elsewhere (DNS rebinding) gets nothing.
/// </summary>
public sealed class WebhookTargets(IOptions<CallOutOptions> options)
{
    public const string Setting = "Node:Notifications:AllowedWebhookTargets";

    private static readonly (IPAddress Network, int Bits)[] Internal =
    [
        (IPAddress.Parse("0.0.0.0"), 8),         // "this network"
        (IPAddress.Parse("10.0.0.0"), 8),        // private
        (IPAddress.Parse("100.64.0.0"), 10),     // carrier-grade NAT
        (IPAddress.Parse("127.0.0.0"), 8),       // loopback
        (IPAddress.Parse("169.254.0.0"), 16),    // link-local, cloud metadata
        (IPAddress.Parse("172.16.0.0"), 12),     // private
        (IPAddress.Parse("192.0.0.0"), 24),      // protocol assignments
        (IPAddress.Parse("192.168.0.0"), 16),    // private
        (IPAddress.Parse("198.18.0.0"), 15),     // benchmarking
        (IPAddress.Parse("224.0.0.0"), 3),       // multicast and reserved, up to broadcast
        (IPAddress.Parse("::"), 128),            // unspecified
        (IPAddress.Parse("::1"), 128),           // loopback
        (IPAddress.Parse("fc00::"), 7),          // unique local
        (IPAddress.Parse("fe80::"), 10),         // link-local
        (IPAddress.Parse("ff00::"), 8),          // multicast
    ];

    /// <summary>Refuses (as a RuleViolation) a URL whose host is internal or resolves to an internal address.</summary>
    public async Task CheckAsync(Uri url, CancellationToken ct)
    {
        var host = url.IdnHost;
        if (AllowedByName(host))
        {
            return;
        }
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                addresses = await Dns.GetHostAddressesAsync(host, timeout.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                // A name that does not resolve now may later: every delivery checks the address it dials.
                return;
            }
        }
        if (addresses.FirstOrDefault(a => !Allowed(host, a)) is { } refused)
        {
            throw RuleViolation.Invalid(Refusal(host, refused));
        }
    }

    /// <summary>
    /// Dials a webhook's host on an address it may use (SocketsHttpHandler.ConnectCallback).
    /// A connection to the operator's HTTP proxy, which the node does not choose per
    /// webhook, is not checked here.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var endpoint = context.DnsEndPoint;
        var toProxy = context.InitialRequestMessage.RequestUri is { } uri
            && !string.Equals(uri.IdnHost, endpoint.Host, StringComparison.OrdinalIgnoreCase);
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        var usable = toProxy ? addresses : addresses.Where(a => Allowed(endpoint.Host, a)).ToArray();
        if (usable.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, Refusal(endpoint.Host, addresses.FirstOrDefault() ?? IPAddress.None));
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(usable, endpoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private bool Allowed(string host, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return !Internal.Any(n => InBlock(address, n.Network, n.Bits))
            || AllowedByName(host)
            || Entries().Any(e => e.Block is { } b && InBlock(address, b.Network, b.Bits));
    }

    private bool AllowedByName(string host) =>
        Entries().Any(e => e.Block is null && string.Equals(e.Text, host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase));

    private IEnumerable<(string Text, (IPAddress Network, int Bits)? Block)> Entries() =>
        options.Value.Notifications.AllowedWebhookTargets
            .Where(e => !string.IsNullOrWhiteSpace(e))
            .Select(e => e.Trim())
            .Select(e => (e, IPNetwork.TryParse(e, out var net) ? (net.BaseAddress, net.PrefixLength)
                : IPAddress.TryParse(e, out var one) ? (one, one.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
                : ((IPAddress, int)?)null));

    private static bool InBlock(IPAddress address, IPAddress network, int bits) =>
        address.AddressFamily == network.AddressFamily && new IPNetwork(network, bits).Contains(address);

    private static string Refusal(string host, IPAddress address) =>
        $"The webhook host {Identifiers.Truncate(host)} is {(host == address.ToString() ? "" : $"at {address}, ")}a loopback, link-local or private address, "
        + $"which webhooks may not reach unless the operator allows it: add the host or its network to {Setting} and restart the node.";
}
