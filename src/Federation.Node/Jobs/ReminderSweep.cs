using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Notifications;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace Federation.Node.Jobs;

/// <summary>
/// Sends the reminders that have fallen due (issue 17 #3): who is reminded of what, and when,
/// is <see cref="Reminders.Due"/>'s decision; this records each one under its key, which puts
/// it on the feed the inbox stream, webhooks and e-mail read (adr/0018). A key recorded once
/// is never recorded again, so a reminder is sent once, across restarts and replicas.
/// </summary>
public sealed class ReminderSweep(
    IFederationStore store,
    NodeIdentity identity,
    CallOutCommands callOuts,
    FightCommands fights,
    FeedSignal signal,
    JobLeases leases,
    TimeProvider time,
    IOptions<CallOutOptions> options,
    ILogger<ReminderSweep> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await leases.HoldAsync(JobLeases.ReminderSweep, stoppingToken))
                {
                    var sent = await SweepAsync(stoppingToken);
                    if (sent > 0)
                    {
                        log.LogInformation("Sent {Count} reminder(s)", sent);
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Reminder sweep failed; retrying at the next pass");
            }
            try
            {
                await Task.Delay(options.Value.Notifications.ReminderSweepInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Records every reminder due now that was not recorded before; returns how many were new.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var o = options.Value.Notifications;
        var due = Reminders.Due(identity.NodeId, now, callOuts.List(), fights.List(), new ReminderTimes(o.RemindBefore, o.RemindStandDownAfter));
        if (due.Count == 0)
        {
            return 0;
        }
        var sent = await store.WriteAsync(tx => due.Count(r => tx.InsertReminder(r.Key, r.ObjectId, InboxItems.Build(r, now).ToByteArray())), ct);
        if (sent > 0)
        {
            signal.Poke();
        }
        return sent;
    }
}
