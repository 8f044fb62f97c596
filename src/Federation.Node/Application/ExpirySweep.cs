using Federation.Node.Notifications;
using Microsoft.Extensions.Options;

namespace Federation.Node.Application;

/// <summary>
/// Closes this node's call-outs whose expiry has come. The close is an ordinary origin
/// event (appended through the origin log), so recipients learn of it like any other.
/// </summary>
public sealed class ExpirySweep(CallOutCommands callOuts, IOptions<CallOutOptions> options, ILogger<ExpirySweep> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var closed = await callOuts.ExpireDueAsync(DateTimeOffset.UtcNow, stoppingToken);
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
