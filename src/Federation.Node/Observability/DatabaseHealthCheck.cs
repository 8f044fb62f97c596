using Federation.Core.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Federation.Node.Observability;

/// <summary>
/// Reports whether the database answers: a replica that cannot reach the shared
/// PostgreSQL says NOT_SERVING, so a load balancer stops sending it work.
/// </summary>
public sealed class DatabaseHealthCheck(IFederationStore store) : IHealthCheck
{
    public const string Name = "database";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            store.Count("peers");
            return Task.FromResult(HealthCheckResult.Healthy());
        }
        catch (Exception ex)
        {
            // The reason only: a health probe's answer must not carry data.
            return Task.FromResult(HealthCheckResult.Unhealthy($"database unreachable ({ex.GetType().Name})"));
        }
    }
}
