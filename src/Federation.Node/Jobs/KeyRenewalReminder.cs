using Federation.Core;
using Federation.Core.Identity;

namespace Federation.Node.Jobs;

/// <summary>
/// Says in the log, at start and twice a day, when the node key's certificate is near its end
/// or past it (<see cref="KeyRenewal"/>): a warning the operator's log watch catches long
/// before the day every peer would stop taking what this node signs. Every replica says it:
/// each signs with the key in its own node.key.
/// </summary>
public sealed class KeyRenewalReminder(NodeIdentity identity, NodeClock clock, ILogger<KeyRenewalReminder> log) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromHours(12);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every);
        do
        {
            if (identity.Current.Checked is { } certificate && KeyRenewal.Reminder(certificate.NotAfter, clock.UtcNow) is { } reminder)
            {
                log.LogWarning("Renew the node key: {Reminder}", reminder);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
