using Federation.Core;
using Federation.Core.Commands;
using Microsoft.Extensions.Options;

namespace Federation.Node.Jobs;

/// <summary>
/// Data minimisation: a set time after a fight ends (or this network left it) or a
/// call-out closes, its confidential details are deleted here — whatever other nodes do,
/// each node purges its own copy.
/// </summary>
public sealed class PurgeSweeper(Confidential confidential, JobLeases leases, IOptions<NodeOptions> options, ILogger<PurgeSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        do
        {
            try
            {
                // One replica at a time (the purge is the same whoever runs it; twice is waste).
                if (await leases.HoldAsync(JobLeases.PurgeSweep, stoppingToken))
                {
                    await SweepAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Purge pass failed; trying again at the next pass");
            }
        }
        while (await Wait(stoppingToken));
    }

    private async Task<bool> Wait(CancellationToken ct)
    {
        try
        {
            await Task.Delay(options.Value.PurgeSweepInterval, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var purged = 0;
        var cutoff = DateTimeOffset.UtcNow - options.Value.PurgeAfter;
        foreach (var fightId in confidential.EndedBefore(cutoff))
        {
            var report = await confidential.PurgeAsync(fightId, ct);
            if (report.LocalDetails || report.Briefings > 0 || report.Reports > 0)
            {
                log.LogInformation("Purged the confidential details of {Fight}, which ended more than {Days} days ago", fightId, options.Value.PurgeAfter.TotalDays);
                purged++;
            }
        }
        // Closed call-outs, on the issuer and on each recipient alike (CallOutPurge says what stays).
        foreach (var callOutId in confidential.CallOutsClosedBefore(cutoff))
        {
            if (await confidential.PurgeCallOutAsync(callOutId, ct))
            {
                log.LogInformation("Purged the confidential content of call-out {CallOut}, closed more than {Days} days ago", callOutId, options.Value.PurgeAfter.TotalDays);
                purged++;
            }
        }
        return purged;
    }
}
