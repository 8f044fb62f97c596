using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Federation.Node.Observability;

/// <summary>
/// Reports whether this replica's bus is connected to its RabbitMQ. MassTransit's own
/// check calls a bus whose broker is unreachable "degraded", which gRPC health shows as
/// SERVING; but such a replica cannot take part in bus work (doorbells, catch-up), so a
/// load balancer should prefer the others: this check says NOT_SERVING until every
/// receive endpoint is connected again. The database has its own check.
/// </summary>
public sealed class BrokerHealthCheck(IBusControl bus) : IHealthCheck
{
    public const string Name = "broker";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = bus.CheckHealth();
        return Task.FromResult(result.Status == BusHealthStatus.Healthy
            ? HealthCheckResult.Healthy()
            // The bus's own words (which endpoints are down), never message content.
            : HealthCheckResult.Unhealthy($"broker unreachable or not ready ({result.Description})"));
    }
}
