using System.Net;
using System.Text.RegularExpressions;
using Federation.Contracts.V1;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Npgsql;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Federation.Node.Tests;

/// <summary>
/// The parts of the scaled shape around the replicas themselves: health that a load
/// balancer can trust, background jobs that act once however many replicas run them, and
/// a dashboard sign-in that holds at every replica.
/// </summary>
public sealed partial class ScaledShapeTests
{
    [Fact]
    public async Task HealthSaysNotServingWhileTheBrokerIsUnreachableAndServingWhenItIsBack()
    {
        // The node reaches the test broker through a relay that this test can cut, so the
        // broker itself (and every other test using it) is left alone.
        using var relay = new TcpProxy(Broker.Port);
        var vhost = await Broker.NewVirtualHostAsync("health");
        await using var alpha = await TestNode.StartAsync("alpha", o =>
        {
            Broker.Use(o, vhost);
            o.RabbitMq.Port = (ushort)relay.Port;
        });
        using var channel = GrpcChannel.ForAddress(alpha.Address);
        var health = new Health.HealthClient(channel);

        await Eventually.TrueAsync(() => Check(health) == ServingStatus.Serving, "alpha to serve once its broker is connected", 60);

        relay.Cut();
        await Eventually.TrueAsync(() => Check(health) == ServingStatus.NotServing, "alpha to say NOT_SERVING while its broker is unreachable", 60);
        // Its database is fine and it still takes changes (they wait in the outbox).
        var draft = await alpha.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme deposit fight", Target = new Target { Name = "Acme Lettings" } }, alpha.Auth);
        Assert.NotNull(alpha.Store.GetObject(draft.Id));

        relay.Restore();
        await Eventually.TrueAsync(() => Check(health) == ServingStatus.Serving, "alpha to serve again once the broker is back", 90);
    }

    private static ServingStatus Check(Health.HealthClient health) =>
        health.Check(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).Status;

    [Fact]
    public async Task TwoReplicasSendEachWebhookOnceAndTheOtherTakesOverWhenTheSenderDies()
    {
        using var db = new TestPostgresDatabase();
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = (Dictionary<string, string> s) =>
        {
            s["Node__Database"] = "postgres";
            s["Node__Postgres__ConnectionString"] = db.ConnectionString;
            // Both replicas look for work ten times a second: without a lease, they would
            // both find and send the same deliveries.
            s["Node__Notifications__PollInterval"] = "00:00:00.1";
            // The receiver listens on loopback, which webhooks may reach only when allowed.
            s["Node__Notifications__AllowedWebhookTargets__0"] = "127.0.0.1";
        };
        await using var a1 = await BrokerNode.StartAsync("alpha", settings);
        await using var a2 = await NodeProcess.StartReplicaAsync(a1, "alpha-2");
        await using var b = await BrokerNode.StartAsync("beta");
        await a1.AddPeerAsync(b);
        await b.AddPeerAsync(a1);
        await a2.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = receiver.Url, Secret = "a-secret-of-sixteen-chars" }, a2.Auth);

        // Beta's call-outs reach alpha; each is one notification for alpha's webhook.
        const int First = 8;
        for (var i = 0; i < First; i++)
        {
            await b.PublishAsync(a1);
        }
        await Eventually.TrueAsync(() => Delivered(db) == First, $"alpha to deliver {First} notifications", 60);
        await Task.Delay(1000); // time for a second replica's duplicate, if there were one
        AssertEachOnce(receiver, First);

        // The replica holding the notifier dies (SIGKILL: it cannot let go); the other takes over.
        var sender = LeaseHolder(db);
        var (dead, survivor) = sender.Contains($"/{a1.ProcessId}/") ? (a1, a2) : (a2, a1);
        Assert.Contains($"/{dead.ProcessId}/", sender);
        dead.Kill();
        // Beta's operator points beta at the replica still running (a load balancer would).
        await b.Delegate.AddPeerAsync(new AddPeerRequest { Address = survivor.Address, Fingerprint = survivor.Fingerprint }, b.Auth);
        const int Second = 4;
        for (var i = 0; i < Second; i++)
        {
            await b.PublishAsync(survivor);
        }
        await Eventually.TrueAsync(() => Delivered(db) == First + Second, "the surviving replica to deliver the rest", 60);
        Assert.Contains($"/{survivor.ProcessId}/", LeaseHolder(db));
        AssertEachOnce(receiver, First + Second);
    }

    private static void AssertEachOnce(WebhookReceiver receiver, int expected)
    {
        var ids = receiver.Accepted.Select(r => r.Headers["X-Solnet-Delivery"]).ToList();
        Assert.Equal(expected, ids.Count);
        Assert.Equal(expected, ids.Distinct().Count());
    }

    private static long Delivered(TestPostgresDatabase db) =>
        (long)Scalar(db, "SELECT COUNT(*) FROM notification_deliveries WHERE state = 'delivered'")!;

    private static string LeaseHolder(TestPostgresDatabase db) =>
        (string)Scalar(db, "SELECT lease_owner FROM job_leases WHERE job = 'notifier'")!;

    private static object? Scalar(TestPostgresDatabase db, string sql)
    {
        using var c = new NpgsqlConnection(db.ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        return cmd.ExecuteScalar();
    }

    [Fact]
    public async Task ASignInAtOneReplicaIsValidAtTheOther()
    {
        using var db = new TestPostgresDatabase();
        int port1 = Ports.Free(), port2 = Ports.Free();
        await using var a1 = await BrokerNode.StartAsync("alpha", s =>
        {
            s["Node__Database"] = "postgres";
            s["Node__Postgres__ConnectionString"] = db.ConnectionString;
            s["Node__DashboardPort"] = port1.ToString();
            // Behind one address every replica answers with the same cookie name.
            s["Node__DashboardCookie"] = "solnet-alpha";
        });
        // A data folder of its own holding only the key and the token, as on another machine:
        // the cookie keys must come from the database, not from a shared folder.
        await using var a2 = await NodeProcess.StartReplicaAsync(a1, "alpha-2", s => s["Node__DashboardPort"] = port2.ToString(), ownFolder: true);
        Assert.False(Directory.Exists(Path.Combine(a2.DataDir, "dashboard-keys")));

        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });
        var signInPage = await http.GetAsync($"http://127.0.0.1:{port1}/signin");
        var csrfCookie = Cookie(signInPage, "solnet-alpha-csrf");
        var csrf = CsrfField().Match(await signInPage.Content.ReadAsStringAsync()).Groups[1].Value;
        Assert.NotEmpty(csrf);
        var token = (await File.ReadAllTextAsync(Path.Combine(a1.DataDir, "operator.token"))).Trim();
        using var post = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port1}/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token, ["__csrf"] = csrf }),
        };
        post.Headers.Add("Cookie", csrfCookie);
        var signedIn = await http.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var session = Cookie(signedIn, "solnet-alpha");

        // The session made at replica 1 opens the inbox at replica 2; without it, replica 2 sends us to sign in.
        using var atReplica2 = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port2}/");
        atReplica2.Headers.Add("Cookie", session);
        var inbox = await http.SendAsync(atReplica2);
        Assert.Equal(HttpStatusCode.OK, inbox.StatusCode);
        Assert.Contains("Sign out", await inbox.Content.ReadAsStringAsync());
        var anonymous = await http.GetAsync($"http://127.0.0.1:{port2}/");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);

        // One key, made once, although two replicas started on an empty database.
        Assert.Equal(1L, Scalar(db, "SELECT COUNT(*) FROM dashboard_keys WHERE name LIKE 'key-%'"));
    }

    /// <summary>"name=value" of a cookie the response sets.</summary>
    private static string Cookie(HttpResponseMessage response, string name) =>
        response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith(name + "=", StringComparison.Ordinal));

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
