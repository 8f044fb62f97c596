using System.Net;
using System.Text.RegularExpressions;
using Federation.Testing;

namespace Federation.Node.Tests;

/// <summary>
/// Cleartext only on loopback unless the operator says otherwise, and the dashboard on its
/// own interface, over HTTPS when TLS is on (docs/security.md, "Transport").
/// </summary>
public sealed partial class TransportTests
{
    [Fact]
    public async Task ANodeOnANonLoopbackAddressWithoutTlsRefusesToStartInOneLine()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string> { ["Node__Host"] = "0.0.0.0" });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(node.StartAgainAsync);

        Assert.Contains("exited with 2", ex.Message);
        Assert.Contains("federation-node: Refusing to listen on 0.0.0.0 without TLS", ex.Message);
        Assert.Contains("--insecure-cleartext", ex.Message);
        // A message for the operator, not a crash: no stack trace, no unhandled exception.
        Assert.False(node.LogContains("   at "), node.LogTail());
        Assert.False(node.LogContains("Unhandled exception"), node.LogTail());
        // Refused before anything was made in the data folder.
        Assert.False(File.Exists(Path.Combine(node.DataDir, "operator.token")));
    }

    [Fact]
    public async Task ADashboardOnANonLoopbackAddressWithoutTlsIsRefusedToo()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>
        {
            ["Node__DashboardHost"] = "0.0.0.0",
            ["Node__DashboardPort"] = Ports.Free().ToString(),
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(node.StartAgainAsync);

        Assert.Contains("exited with 2", ex.Message);
        Assert.Contains("Refusing to serve the dashboard on 0.0.0.0 without TLS", ex.Message);
    }

    [Fact]
    public async Task WithInsecureCleartextANodeOnANonLoopbackAddressStartsAndSaysSoOnEveryStart()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>
        {
            ["Node__Host"] = "0.0.0.0",
            ["Node__InsecureCleartext"] = "true",
            ["Node__DashboardPort"] = "0",
        });

        await node.StartAgainAsync();
        await Eventually.TrueAsync(() => node.LogCount("INSECURE: --insecure-cleartext: gRPC on 0.0.0.0") >= 2, "the warning in the log and the banner");

        node.Kill();
        await node.StartAgainAsync();
        await Eventually.TrueAsync(() => node.LogCount("INSECURE: --insecure-cleartext: gRPC on 0.0.0.0") >= 4, "the warning again at the second start");
    }

    [Fact]
    public async Task TheDashboardListensOnLoopbackByDefaultWhereverGrpcListens()
    {
        var dashboard = Ports.Free();
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>
        {
            ["Node__Host"] = "0.0.0.0",
            ["Node__InsecureCleartext"] = "true",
            ["Node__DashboardPort"] = dashboard.ToString(),
        });
        await node.StartAgainAsync();

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{dashboard}/signin")).StatusCode);
        // The machine's own non-loopback addresses reach gRPC, but not the dashboard.
        foreach (var address in MachineAddresses())
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://{address}:{dashboard}/signin"));
        }
        Assert.Contains("dashboard:      http://127.0.0.1:", node.LogTail(100));
    }

    [Fact]
    public async Task WithTlsTheDashboardIsServedOverHttpsWithASecureCookieAndHsts()
    {
        var dashboard = Ports.Free();
        await using var node = await TestNode.StartAsync("alpha", o =>
        {
            o.Tls = true;
            o.DashboardPort = dashboard;
        });
        using var handler = new HttpClientHandler
        {
            // The node's self-signed certificate; what is checked here is that it is HTTPS at all.
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
            AllowAutoRedirect = false,
            UseCookies = true,
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{dashboard}") };

        var form = await http.GetAsync("/signin");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Equal("max-age=31536000", form.Headers.GetValues("Strict-Transport-Security").Single());
        var csrf = CsrfField().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value;
        var token = File.ReadAllText(Path.Combine(node.DataDir, "operator.token")).Trim();
        var signedIn = await http.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["__csrf"] = csrf, ["token"] = token }));

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var cookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith($"solnet-{dashboard}=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);

        // And nothing in clear on that port.
        using var plain = new HttpClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{dashboard}/signin"));
    }

    private static IEnumerable<IPAddress> MachineAddresses() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    [GeneratedRegex("name=\"__csrf\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
