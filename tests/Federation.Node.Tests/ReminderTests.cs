using Federation.Contracts.V1;
using Federation.Node.Jobs;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>Issue 17 #3: a reminder reaches people through the same channels, once, across restarts.</summary>
public sealed class ReminderTests
{
    [Fact]
    public async Task ACallOutWhoseWindowClosesRemindsTheRecipientOnceOnEveryChannelAndNotAgainAfterARestart()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        await b.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = receiver.Url, Secret = "correct-horse-battery-staple-42", Kinds = { "reminder" } }, b.Auth);
        var content = Samples.CallOut();
        content.WindowStart = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1));
        content.WindowEnd = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(6));

        var published = await PublishAsync(a, content, b);

        await Eventually.TrueAsync(() => receiver.Accepted.Count == 1, "the reminder to reach beta's webhook", seconds: 60);
        var hooked = receiver.Accepted[0].Item();
        Assert.Equal((InboxChange.Reminder, published.Id, "reminder"), (hooked.Change, hooked.CallOutId, receiver.Accepted[0].Headers["X-Solnet-Event"]));
        Assert.Contains("Reminder: the window of Picket the Leeds branch closes at", hooked.Summary);
        Assert.Contains("your network has not answered", hooked.Summary);
        Assert.Contains($"solnet callout respond {published.Id} pledge", hooked.Act);
        // The inbox stream tells it too, after the call-out itself.
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        using (var call = b.Delegate.SubscribeInbox(new SubscribeInboxRequest { AfterCursor = 1 }, b.Auth, cancellationToken: stop.Token))
        {
            Assert.True(await call.ResponseStream.MoveNext(stop.Token));
            Assert.Equal((InboxChange.Reminder, published.Id), (call.ResponseStream.Current.Change, call.ResponseStream.Current.CallOutId));
        }
        // The issuer is not reminded of its own call-out.
        Assert.Equal(0, await a.Services.GetRequiredService<ReminderSweep>().SweepAsync(CancellationToken.None));

        await b.StopAsync();
        await b.StartAgainAsync();

        // Recorded under its key: a sweep after the restart finds it sent already.
        Assert.Equal(0, await b.Services.GetRequiredService<ReminderSweep>().SweepAsync(CancellationToken.None));
        await Eventually.TrueAsync(() => b.Store.FeedCursor("notifier") >= b.Store.FeedEnd(), "the notifier to pass every feed entry");
        Assert.Single(receiver.Requests);
    }
}
