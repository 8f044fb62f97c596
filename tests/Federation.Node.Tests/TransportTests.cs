using System.Globalization;
using System.Net;
using Federation.Contracts.V1;
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

    [Fact]
    public async Task EmailGoesOnlyOverStartTlsUnlessCleartextIsChosen()
    {
        // The test server offers no STARTTLS, as a server (or whoever is on the path) may not.
        await using var smtp = SmtpTestServer.Start();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta",
            "--Node:Smtp:Host", "127.0.0.1", "--Node:Smtp:Port", smtp.Port.ToString(CultureInfo.InvariantCulture),
            "--Node:Smtp:From", "solnet@beta.example", "--Node:Smtp:Username", "beta", "--Node:Smtp:Password", "mail-secret");
        await TestNode.PeerAsync(a, b);
        var channel = await b.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate@beta.example" }, b.Auth);

        await CallOutSteps.PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault() is { Attempts: >= 1 }, "a failed attempt");
        Assert.Contains("STARTTLS", Deliveries(b, channel.Id).Single().LastError);
        Assert.Empty(smtp.Received);
        Assert.DoesNotContain(smtp.Transcript, l => l.StartsWith("AUTH", StringComparison.OrdinalIgnoreCase) || l.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
    }

    private static IReadOnlyList<NotificationDelivery> Deliveries(TestNode node, string channelId) =>
        node.Delegate.ListNotificationDeliveries(new ListNotificationDeliveriesRequest { ChannelId = channelId }, node.Auth).Deliveries;

    private static IEnumerable<IPAddress> MachineAddresses() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    [GeneratedRegex("name=\"__csrf\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
