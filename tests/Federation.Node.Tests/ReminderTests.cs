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
        var delivery = Assert.Single(b.Delegate.ListNotificationDeliveries(new ListNotificationDeliveriesRequest(), b.Auth).Deliveries);
        Assert.Equal((InboxChange.Reminder, published.Id, ""), (delivery.Change, delivery.CallOutId, delivery.FightId));
    }

    [Fact]
    public async Task AnUnacknowledgedStandDownRemindsTheNetworkThatOwesItAndTheInitiator()
    {
        await using var atAlpha = await WebhookReceiver.StartAsync();
        await using var atBeta = await WebhookReceiver.StartAsync();
        string[] soon = ["--Node:Notifications:RemindStandDownAfter", "00:00:00"];
        await using var a = await TestNode.StartAsync("alpha", soon);
        await using var b = await TestNode.StartAsync("beta", soon);
        await TestNode.PeerAsync(a, b);
        const string secret = "correct-horse-battery-staple-42";
        await a.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = atAlpha.Url, Secret = secret, Kinds = { "reminder" } }, a.Auth);
        await b.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = atBeta.Url, Secret = secret, Kinds = { "reminder" } }, b.Auth);
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme deposits", Target = new Target { Name = "Acme Lettings" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = draft.Id, Networks = { b.NodeId } }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(draft.Id) is not null, "the invitation to reach beta");
        var hash = b.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, b.Auth).TermsHash;
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = draft.Id, TermsHash = hash }, b.Auth);
        await Eventually.TrueAsync(() => a.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, a.Auth).Participants.Single().State == ParticipantState.Committed, "the acceptance to reach alpha");

        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = draft.Id, Status = FightStatus.Won }, a.Auth);

        await Eventually.TrueAsync(() => atBeta.Accepted.Count == 1 && atAlpha.Accepted.Count == 1, "both reminders to be posted", seconds: 60);
        var owed = atBeta.Accepted[0].Item();
        Assert.Equal((InboxChange.Reminder, draft.Id, $"solnet fight ack {draft.Id}"), (owed.Change, owed.FightId, owed.Act));
        Assert.Contains("has not acknowledged the stand-down", owed.Summary);
        Assert.Contains("1 network(s) have not acknowledged the stand-down of Acme deposits", atAlpha.Accepted[0].Item().Summary);
        var delivery = Assert.Single(b.Delegate.ListNotificationDeliveries(new ListNotificationDeliveriesRequest(), b.Auth).Deliveries);
        Assert.Equal((draft.Id, ""), (delivery.FightId, delivery.CallOutId));
        // Acknowledging takes nothing back, and nothing is sent again.
        await b.Delegate.AcknowledgeStandDownAsync(new GetObjectRequest { Id = draft.Id }, b.Auth);
        Assert.Equal(0, await b.Services.GetRequiredService<ReminderSweep>().SweepAsync(CancellationToken.None));
        Assert.Single(atBeta.Requests);
    }
}
