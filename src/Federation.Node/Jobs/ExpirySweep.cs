using Federation.Core.Commands;
using Federation.Node.Notifications;
using Microsoft.Extensions.Options;

namespace Federation.Node.Jobs;

/// <summary>
/// Closes this node's call-outs whose expiry has come. The close is an ordinary origin
/// event (appended through the origin log), so recipients learn of it like any other.
/// </summary>
public sealed class ExpirySweep(CallOutCommands callOuts, JobLeases leases, IOptions<CallOutOptions> options, ILogger<ExpirySweep> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // One replica at a time: two would race to close the same call-outs.
                var closed = await leases.HoldAsync(JobLeases.ExpirySweep, stoppingToken)
                    ? await callOuts.ExpireDueAsync(DateTimeOffset.UtcNow, stoppingToken)
                    : 0;
                if (closed > 0)
                {
                    log.LogInformation("Closed {Count} expired call-out(s)", closed);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Expiry sweep failed; retrying at the next pass");
            }
            try
            {
                await Task.Delay(options.Value.ExpirySweepInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
