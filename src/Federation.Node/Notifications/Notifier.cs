using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Delivery;
using Federation.Node.Jobs;
using Microsoft.Extensions.Options;

namespace Federation.Node.Notifications;

/// <summary>
/// Tells the operator's channels about new and changed call-outs and the fight events that
/// ask something of this network (<see cref="InboxFeed"/>), each channel only the kinds it
/// asked for. It reads the feed after its stored cursor and, in one transaction, records a pending delivery per
/// channel and moves the cursor; then it sends what is due. Retry timing lives in the
/// database, so a restart neither loses nor repeats a decided delivery (a send that
/// crashes before its result is stored is sent again: at least once, like peer delivery).
/// Events this node did itself (its own publication, its own pledge) are not notified.
/// </summary>
public sealed class Notifier(
    IFederationStore store,
    InboxFeed feed,
    FeedSignal signal,
    WebhookSender webhooks,
    EmailSender email,
    JobLeases leases,
    IOptions<CallOutOptions> options,
    ILogger<Notifier> log) : BackgroundService
{
    private const string CursorName = "notifier";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // One replica at a time, or two would send each webhook and e-mail.
                if (await leases.HoldAsync(JobLeases.Notifier, stoppingToken))
                {
                    await FanOutAsync(stoppingToken);
                    await SendDueAsync(stoppingToken);
                    await ForgetSentAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Notification pass failed; retrying at the next pass");
            }
            try
            {
                await Task.Delay(options.Value.Notifications.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task FanOutAsync(CancellationToken ct)
    {
        var cursor = store.FeedCursor(CursorName);
        var page = feed.Read(cursor, 200);
        if (page.End == cursor)
        {
            return;
        }
        var channels = store.ListChannels().Where(c => c.Active).ToList();
        await store.WriteAsync(tx =>
        {
            foreach (var item in page.Items.Where(i => !i.OwnAction))
            {
                var body = Google.Protobuf.MessageExtensions.ToByteArray(InboxItems.ForChannel(item));
                foreach (var channel in channels.Where(c => NotificationKinds.Wants(c.KindList, item.Change)))
                {
                    tx.InsertDelivery(channel.Id, (long)item.Cursor, InboxItems.ObjectId(item), (int)item.Change, body);
                }
            }
            // Past every event read, told or not, in the same transaction as the deliveries.
            tx.SetFeedCursor(CursorName, page.End);
            return true;
        }, ct);
        signal.Poke();
    }

    private DateTimeOffset nextForget;

    /// <summary>Empties stored bodies once sent and kept for KeepDelivered; at most once a minute, as a write.</summary>
    private async Task ForgetSentAsync(CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        if (now < nextForget)
        {
            return;
        }
        var keep = options.Value.Notifications.KeepDelivered;
        nextForget = now + TimeSpan.FromTicks(Math.Clamp(keep.Ticks, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        var forgotten = await store.WriteAsync(tx => tx.ForgetBodies(now - keep), ct);
        if (forgotten > 0)
        {
            log.LogInformation("Emptied {Count} sent notification bodies kept past {Keep}", forgotten, keep);
        }
    }

    private async Task SendDueAsync(CancellationToken ct)
    {
        var due = store.DueDeliveries(DateTimeOffset.UtcNow, 200);
        if (due.Count == 0)
        {
            return;
        }
        var channels = store.ListChannels().ToDictionary(c => c.Id);
        // One channel's deliveries in order, one at a time; a slow or dead receiver holds up only itself.
        await Task.WhenAll(due.GroupBy(d => d.ChannelId).Select(g => SendChannelAsync(channels[g.Key], g.ToList(), ct)));
    }

    private async Task SendChannelAsync(ChannelRecord channel, IReadOnlyList<DeliveryRecord> deliveries, CancellationToken ct)
    {
        var o = options.Value.Notifications;
        foreach (var d in deliveries)
        {
            if (!await leases.HoldAsync(JobLeases.Notifier, ct))
            {
                return; // a long pass outlived the lease: another replica sends from here on
            }
            var item = InboxItem.Parser.ParseFrom(d.Body);
            var error = channel.Kind == NotificationChannels.Webhook
                ? await webhooks.SendAsync(channel.Target, channel.Secret ?? "", d.Id, item, ct)
                : await email.SendAsync(channel.Target, d.Id, item, ct);
            if (error is null)
            {
                await store.WriteAsync(tx =>
                {
                    tx.MarkDelivered(d.Id);
                    return true;
                }, ct);
                continue;
            }
            var attempts = d.Attempts + 1;
            DateTimeOffset? next = attempts >= o.MaxAttempts ? null : DateTimeOffset.UtcNow + Backoff.Delay(d.Attempts, o.RetryBaseDelay, o.RetryMaxDelay);
            log.LogInformation("Notification {Delivery} to {Kind} channel {Channel} failed ({Error}); {Next}",
                d.Id, channel.Kind, channel.Id, error, next is null ? "giving up" : $"retrying at {next:HH:mm:ss}");
            await store.WriteAsync(tx =>
            {
                tx.MarkAttemptFailed(d.Id, error, next);
                return true;
            }, ct);
            // The receiver is failing: its later deliveries wait behind this one (see DueDeliveries).
            return;
        }
    }
}
