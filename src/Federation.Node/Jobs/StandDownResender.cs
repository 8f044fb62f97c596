using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Microsoft.Extensions.Options;

namespace Federation.Node.Jobs;

/// <summary>
/// When a fight this node initiated has ended, re-sends the stand-down to every
/// network that has not acknowledged it, until it does.
/// </summary>
public sealed class StandDownResender(
    IObjectReads store,
    OriginLog origin,
    NodeIdentity identity,
    JobLeases leases,
    IOptions<NodeOptions> options,
    ILogger<StandDownResender> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.StandDownResendInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // One replica at a time, or each would re-send every stand-down.
                if (await leases.HoldAsync(JobLeases.StandDownResend, stoppingToken))
                {
                    await ResendAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Stand-down re-send pass failed; trying again at the next pass");
            }
        }
    }

    public async Task ResendAsync(CancellationToken ct)
    {
        foreach (var stored in store.ListObjects(ObjectKind.Fight).Where(o => o.Origin == identity.NodeId && o.LastSequence > 0))
        {
            var fight = FightState.Parser.ParseFrom(stored.State);
            var waiting = fight.Participants.Where(p => p.StandDownPending).Select(p => p.Network).ToList();
            if (waiting.Count > 0)
            {
                log.LogInformation("Re-sending the stand-down for {Fight} to {Count} network(s) that have not acknowledged", fight.Id, waiting.Count);
                await origin.ResendLatestAsync(fight.Id, waiting, ct);
            }
        }
    }
}
