using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Federation.Contracts.V1;
using Federation.Node.Notifications;
using Google.Protobuf;
using Grpc.Core;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>Webhooks (signed, retried, with visible status) and e-mail over a real SMTP conversation.</summary>
public sealed class NotificationTests
{
    private const string Secret = "correct-horse-battery-staple-42";

    private static async Task<NotificationChannel> AddWebhookAsync(TestNode node, string url, string secret = Secret) =>
        await node.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = url, Secret = secret }, node.Auth);

    private static IReadOnlyList<NotificationDelivery> Deliveries(TestNode node, string channelId = "") =>
        node.Delegate.ListNotificationDeliveries(new ListNotificationDeliveriesRequest { ChannelId = channelId }, node.Auth).Deliveries;

    /// <summary>What a receiver does: recompute the HMAC over the timestamp, a dot and the body, compare in constant time.</summary>
    private static bool Verifies(ReceivedRequest r, string secret)
    {
        var signed = Encoding.UTF8.GetBytes(r.Headers["X-Solnet-Timestamp"] + ".").Concat(r.Body).ToArray();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(r.Headers["X-Solnet-Signature"]));
    }

    [Fact]
    public async Task ANewCallOutIsPostedToTheWebhookSignedWithTheSharedSecret()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var channel = await AddWebhookAsync(b, receiver.Url);

        var published = await PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => receiver.Accepted.Count == 1, "the webhook to be called");
        var request = receiver.Accepted[0];
        Assert.True(Verifies(request, Secret));
        Assert.False(Verifies(request, Secret + "x"));
        Assert.Equal("callout.published", request.Headers["X-Solnet-Event"]);
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
        var sent = DateTimeOffset.FromUnixTimeSeconds(long.Parse(request.Headers["X-Solnet-Timestamp"], CultureInfo.InvariantCulture));
        Assert.InRange(sent, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        var item = JsonParser.Default.Parse<InboxItem>(Encoding.UTF8.GetString(request.Body));
        Assert.Equal((published.Id, InboxChange.Published), (item.CallOutId, item.Change));
        Assert.Contains("Picket the Leeds branch", item.Summary);
        // The title and the id to open it by; not the call-out's whole content (issue 15 #9).
        Assert.Equal(new CallOutContent { Title = published.Content.Title }, item.CallOut.Content);
        Assert.DoesNotContain(published.Content.DemandSummary, Encoding.UTF8.GetString(request.Body));
        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault()?.State == "delivered", "the delivery to show as delivered");
        var delivery = Deliveries(b, channel.Id).Single();
        Assert.Equal((1u, published.Id, request.Headers["X-Solnet-Delivery"]), (delivery.Attempts, delivery.CallOutId, delivery.Id.ToString(CultureInfo.InvariantCulture)));
        Assert.NotNull(delivery.DeliveredAt);
    }

    /// <summary>Issue 15 #9: a sent notification's stored body is emptied after Node:Notifications:KeepDelivered; its status stays.</summary>
    [Fact]
    public async Task ASentNotificationsStoredBodyIsEmptiedAfterTheKeep()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", "--Node:Notifications:KeepDelivered", "00:00:01");
        await TestNode.PeerAsync(a, b);
        var channel = await AddWebhookAsync(b, receiver.Url);

        await PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault()?.State == "delivered", "the delivery to be sent");
        await Eventually.TrueAsync(() => StoredBodyBytes(b) == 0, "the sent body to be emptied", seconds: 30);
        Assert.Equal("delivered", Deliveries(b, channel.Id).Single().State);
    }

    private static long StoredBodyBytes(TestNode node)
    {
        using var c = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(node.DataDir, "node.db"), Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly, Pooling = false,
        }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM notification_deliveries";
        return (long)cmd.ExecuteScalar()!;
    }

    [Fact]
    public async Task AFailingWebhookIsRetriedWithBackoffUntilItAnswersAndTheStatusShowsEachStep()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 2);
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var channel = await AddWebhookAsync(b, receiver.Url);

        await PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault() is { State: "pending", Attempts: >= 1 }, "a failed attempt to be recorded");
        var failing = Deliveries(b, channel.Id).Single();
        Assert.Contains("HTTP 500", failing.LastError);
        Assert.NotNull(failing.NextAttemptAt);
        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).Single().State == "delivered", "the third attempt to succeed");
        var delivered = Deliveries(b, channel.Id).Single();
        Assert.Equal(3u, delivered.Attempts);
        Assert.Equal("", delivered.LastError);
        Assert.Equal(new[] { 500, 500, 200 }, receiver.Requests.Select(r => r.AnsweredWith));
        // Every attempt is signed afresh, and the same delivery id lets the receiver dedupe.
        Assert.All(receiver.Requests, r => Assert.True(Verifies(r, Secret)));
        Assert.Single(receiver.Requests.Select(r => r.Headers["X-Solnet-Delivery"]).Distinct());
        // The retries were spaced by the backoff, not fired back to back: base delay 0.2 s,
        // jittered to at least half of it, then doubled.
        var at = receiver.Requests.Select(r => r.ReceivedAt).ToList();
        Assert.True(at[1] - at[0] >= TimeSpan.FromMilliseconds(100), $"second attempt came {(at[1] - at[0]).TotalMilliseconds} ms after the first");
        Assert.True(at[2] - at[1] >= TimeSpan.FromMilliseconds(200), $"third attempt came {(at[2] - at[1]).TotalMilliseconds} ms after the second");
    }

    [Fact]
    public async Task ADeliveryIsGivenUpAfterTheLastAttemptAndShownAsFailed()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 1000);
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", "--Node:Notifications:MaxAttempts", "2");
        await TestNode.PeerAsync(a, b);
        var channel = await AddWebhookAsync(b, receiver.Url);

        await PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault()?.State == "failed", "the delivery to be given up");
        var failed = Deliveries(b, channel.Id).Single();
        Assert.Equal(2u, failed.Attempts);
        Assert.Contains("HTTP 500", failed.LastError);
        Assert.Null(failed.NextAttemptAt);
        Assert.Equal(2, receiver.Requests.Count);
    }

    [Fact]
    public async Task AWebhookThatCannotBeReachedIsRetriedAndTheErrorSaysWhy()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var channel = await AddWebhookAsync(b, "http://127.0.0.1:9/hook");

        await PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault() is { Attempts: >= 2 }, "two failed attempts");
        var pending = Deliveries(b, channel.Id).Single();
        Assert.Equal("pending", pending.State);
        Assert.Contains("ConnectionError", pending.LastError);
    }

    [Fact]
    public async Task AReceiversLaterDeliveriesWaitBehindOneThatIsFailingAndArriveInOrder()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 1000);
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var channel = await AddWebhookAsync(b, receiver.Url);
        var first = await PublishAsync(a, Samples.CallOut("first"), b);
        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault() is { Attempts: >= 1 }, "the first delivery to fail");

        var second = await PublishAsync(a, Samples.CallOut("second"), b);
        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).Count == 2, "the second delivery to be queued");
        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).Single(d => d.CallOutId == first.Id).Attempts >= 3, "more retries of the first");
        // Never tried while the first is failing.
        Assert.Equal(0u, Deliveries(b, channel.Id).Single(d => d.CallOutId == second.Id).Attempts);
        receiver.FailuresLeft = 0;

        await Eventually.TrueAsync(() => receiver.Accepted.Count == 2, "both to be delivered once the receiver recovers");
        Assert.Equal(new[] { first.Id, second.Id },
            receiver.Accepted.Select(r => JsonParser.Default.Parse<InboxItem>(Encoding.UTF8.GetString(r.Body)).CallOutId));
    }

    [Fact]
    public async Task ARedirectIsNotFollowed()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 1000, failStatus: 307);
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", "--Node:Notifications:MaxAttempts", "2");
        await TestNode.PeerAsync(a, b);
        var channel = await AddWebhookAsync(b, receiver.Url);

        await PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault()?.State == "failed", "the delivery to be given up");
        Assert.Contains("HTTP 307", Deliveries(b, channel.Id).Single().LastError);
        // One request per attempt: the redirect (to the receiver itself) was not followed.
        Assert.Equal(2, receiver.Requests.Count);
    }

    [Fact]
    public async Task AnEmailArrivesAtTheSmtpServer()
    {
        await using var smtp = SmtpTestServer.Start();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta",
            "--Node:Smtp:Host", "127.0.0.1", "--Node:Smtp:Port", smtp.Port.ToString(CultureInfo.InvariantCulture),
            "--Node:Smtp:From", "Beta SolNet <solnet@beta.example>",
            // The test server speaks no TLS: cleartext has to be chosen (TransportTests checks the default).
            "--Node:Smtp:Security", "none");
        await TestNode.PeerAsync(a, b);
        var channel = await b.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate@beta.example" }, b.Auth);
        Assert.Equal(("email", "delegate@beta.example"), (channel.Kind, channel.Target));
        var content = Samples.CallOut();
        content.TalkingPoints = "Ask for the manager; be polite.";
        content.SafetyNotes = "Stay on the public pavement.";

        var published = await PublishAsync(a, content, b);

        await Eventually.TrueAsync(() => !smtp.Received.IsEmpty, "the e-mail to reach the SMTP server");
        var mail = Assert.Single(smtp.Received);
        Assert.Equal("solnet@beta.example", mail.MailFrom);
        Assert.Equal(new[] { "delegate@beta.example" }, mail.RcptTo);
        Assert.StartsWith("[solnet] New call-out from alpha", mail.Message.Subject ?? "");
        Assert.Contains("Picket the Leeds branch", mail.Message.Subject);
        var text = mail.Message.TextBody;
        // What happened, the title and how to open it; the details stay on the node (issue 15 #9).
        Assert.Contains("Title: " + content.Title, text);
        Assert.Contains("solnet callout show " + published.Id, text);
        Assert.DoesNotContain("Pay the £2,400 in stolen wages", text);
        Assert.DoesNotContain("Stay on the public pavement.", text);
        Assert.Contains(smtp.Transcript, l => l.StartsWith("EHLO", StringComparison.Ordinal));
        // The client says QUIT after the server accepts the message, a moment later.
        await Eventually.TrueAsync(() => smtp.Transcript.Contains("QUIT"), "the SMTP client to end the conversation with QUIT");
        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault()?.State == "delivered", "the e-mail delivery to show as delivered");
    }

    [Fact]
    public async Task AnEmailThatTheServerCannotTakeIsRetriedLater()
    {
        await using var a = await TestNode.StartAsync("alpha");
        // Nothing listens on port 9.
        await using var b = await TestNode.StartAsync("beta", "--Node:Smtp:Host", "127.0.0.1", "--Node:Smtp:Port", "9", "--Node:Smtp:From", "solnet@beta.example");
        await TestNode.PeerAsync(a, b);
        var channel = await b.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate@beta.example" }, b.Auth);

        await PublishAsync(a, to: b);

        await Eventually.TrueAsync(() => Deliveries(b, channel.Id).SingleOrDefault() is { Attempts: >= 1 }, "a failed attempt");
        var pending = Deliveries(b, channel.Id).Single();
        Assert.Equal("pending", pending.State);
        Assert.StartsWith("SMTP:", pending.LastError);
    }

    [Fact]
    public async Task TheIssuerIsNotifiedOfResponsesButNotOfItsOwnActions()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        await AddWebhookAsync(a, receiver.Url);

        var published = await PublishAsync(a, to: b);
        await ReachedAsync(b, published.Id, 1);
        await RespondAsync(b, published.Id, Decline("Our members are on another action that day"));

        await Eventually.TrueAsync(() => receiver.Accepted.Count >= 1, "alpha's webhook to hear of the decline");
        var item = JsonParser.Default.Parse<InboxItem>(Encoding.UTF8.GetString(receiver.Accepted[0].Body));
        Assert.Equal((InboxChange.Responded, b.NodeId, ResponseKind.Decline), (item.Change, item.Network, item.Response.Kind));
        Assert.Contains("declined", item.Summary);
        // The publication was alpha's own act: no delivery was ever made for it.
        Assert.DoesNotContain(Deliveries(a), d => d.Change == InboxChange.Published);
    }

    [Fact]
    public async Task ARemovedChannelIsSentNothingMore()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var channel = await AddWebhookAsync(b, receiver.Url);
        var first = await PublishAsync(a, to: b);
        await Eventually.TrueAsync(() => receiver.Accepted.Count == 1, "the first call-out to be posted");

        var removed = await b.Delegate.RemoveNotificationChannelAsync(new RemoveNotificationChannelRequest { Id = channel.Id }, b.Auth);
        var second = await PublishAsync(a, Samples.CallOut("second"), b);
        await ReachedAsync(b, second.Id, 1);
        // Let the notifier pass over the second call-out (it polls every 0.1 s in tests).
        await Eventually.TrueAsync(() => b.Store.FeedCursor("notifier") >= b.Store.FeedEnd(), "the notifier to pass the second call-out");

        Assert.False(removed.Active);
        Assert.Single(receiver.Requests);
        Assert.Single(Deliveries(b, channel.Id));
        Assert.False(b.Delegate.ListNotificationChannels(new ListNotificationChannelsRequest(), b.Auth).Channels.Single().Active);
    }

    [Theory]
    [InlineData("ftp://example.org/hook", Secret, "not a webhook URL")]
    [InlineData("not a url", Secret, "not a webhook URL")]
    [InlineData("http://127.0.0.1/hook", "short", "at least 16 characters")]
    [InlineData("http://127.0.0.1/hook", "", "webhook secret is required")]
    public async Task ABadWebhookIsRefusedAndNothingIsAdded(string url, string secret, string message)
    {
        await using var a = await TestNode.StartAsync("alpha");

        var ex = await Assert.ThrowsAsync<RpcException>(() => AddWebhookAsync(a, url, secret));

        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains(message, ex.Status.Detail);
        Assert.Empty(a.Delegate.ListNotificationChannels(new ListNotificationChannelsRequest(), a.Auth).Channels);
    }

    [Fact]
    public async Task AnEmailRecipientWithoutAnSmtpServerIsRefused()
    {
        await using var a = await TestNode.StartAsync("alpha");

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            a.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate@alpha.example" }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.FailedPrecondition, ex);
        Assert.Contains("Node:Smtp:Host", ex.Status.Detail);
    }

    [Fact]
    public async Task AnEmailRecipientThatIsNotAnAddressIsRefused()
    {
        await using var a = await TestNode.StartAsync("alpha", "--Node:Smtp:Host", "127.0.0.1", "--Node:Smtp:From", "solnet@alpha.example");

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            a.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate at alpha" }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.InvalidArgument, ex);
    }

    [Fact]
    public async Task TheWebhookSecretIsNeverShownAgain()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await AddWebhookAsync(a, "http://127.0.0.1:9/hook");

        var listed = await a.Delegate.ListNotificationChannelsAsync(new ListNotificationChannelsRequest(), a.Auth);

        Assert.DoesNotContain(Secret, JsonFormatter.Default.Format(listed));
    }

    [Fact]
    public void TheSignatureIsTheHmacOfTheTimestampADotAndTheBody()
    {
        // Computed independently: python3 -c 'import hmac,hashlib; print(hmac.new(b"Jefe", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest())'
        var signature = WebhookSender.Sign("Jefe", "1700000000", Encoding.UTF8.GetBytes("{\"a\":1}"));

        Assert.Equal("sha256=fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a", signature);
    }
}
