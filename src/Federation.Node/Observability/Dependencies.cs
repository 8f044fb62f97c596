using System.Collections.Concurrent;
using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Federation.Node.Observability;

/// <summary>
/// Whether each thing this node depends on (its database, its broker) is up, and since
/// when it is down: what `solnet status`, the dashboard's Peers page and the log say during
/// an outage. <see cref="DependencyMonitor"/> asks the node's health checks and reports
/// here; a change is logged once, not once per failed attempt.
/// </summary>
public sealed class Dependencies(TimeProvider clock, ILogger<Dependencies> log)
{
    private sealed record State(bool Up, DateTimeOffset Since, string Reason);

    private readonly ConcurrentDictionary<string, State> _states = new();

    public void Report(string name, bool up, string reason)
    {
        var now = clock.GetUtcNow();
        var before = _states.TryGetValue(name, out var s) ? s : null;
        if (before is not null && before.Up == up)
        {
            if (!up && before.Reason != reason)
            {
                // Still down, for another reason: keep the time it went down.
                _states[name] = before with { Reason = reason };
            }
            return;
        }
        _states[name] = new State(up, now, reason);
        if (!up)
        {
            log.LogWarning("The {Dependency} is down: {Reason}. The node goes on; what needs it waits, and this is said again only when it is back", name, reason);
        }
        else if (before is not null)
        {
            log.LogInformation("The {Dependency} is back after {Seconds:0} s", name, (now - before.Since).TotalSeconds);
        }
    }

    /// <summary>Each dependency checked so far, by name.</summary>
    public IReadOnlyList<DependencyHealth> Snapshot() =>
        [.. _states.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new DependencyHealth
        {
            Name = kv.Key,
            Up = kv.Value.Up,
            Since = Timestamp.FromDateTimeOffset(kv.Value.Since),
            Reason = kv.Value.Up ? "" : kv.Value.Reason,
        })];
}

/// <summary>
/// Runs the node's health checks every <c>Node:DependencyCheckInterval</c> and reports each
/// to <see cref="Dependencies"/>: the same checks gRPC health answers with.
/// </summary>
public sealed class DependencyMonitor(HealthCheckService health, Dependencies dependencies, Delivery.BusReadiness bus,
    Microsoft.Extensions.Options.IOptions<Core.NodeOptions> options)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A bus still starting reads as "not ready": that is no outage, so the first look waits for its start to end.
        await bus.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.DependencyCheckInterval);
        do
        {
            try
            {
                // The node's own checks; MassTransit registers one of its own that says the same as "broker".
                var report = await health.CheckHealthAsync(r => r.Name is DatabaseHealthCheck.Name or BrokerHealthCheck.Name, stoppingToken);
                foreach (var (name, entry) in report.Entries)
                {
                    dependencies.Report(name, entry.Status == HealthStatus.Healthy, entry.Description ?? entry.Status.ToString());
                }
            }
            catch (Exception) when (!stoppingToken.IsCancellationRequested)
            {
                // A check that throws is reported by the health service as unhealthy; nothing else to do here.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
