using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Federation.Contracts;
using Federation.Core;
using Federation.Node.Grpc;
using Federation.Node.Observability;
using Federation.Node.Security;

namespace Federation.Node.Hosting;

public static class GrpcExtensions
{
    /// <summary>The response header of the gRPC health answer that carries the node's release.</summary>
    public const string ReleaseHeader = "x-fed-release";

    /// <summary>The check that passes whenever the process answers: liveness, as against readiness.</summary>
    private const string LivenessCheck = "process";

    /// <summary>gRPC with the node's interceptors, reflection, and health checks (database; broker when on RabbitMQ).</summary>
    public static IServiceCollection AddFederationGrpc(this IServiceCollection services, NodeOptions options)
    {
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = options.MaxMessageBytes;
            o.Interceptors.Add<ErrorInterceptor>();
            o.Interceptors.Add<DelegateAuthInterceptor>();
        });
        services.AddGrpcReflection();
        // "" and "readiness": may this replica be given work (its database and broker answer)?
        // "liveness": does the process answer at all (restart it if not)? A database outage
        // should take a replica out of a load balancer's rotation, not get it restarted.
        const string process = LivenessCheck;
        var health = services.AddGrpcHealthChecks(o =>
        {
            o.Services.Map("readiness", r => r.Name != process);
            o.Services.Map("liveness", r => r.Name == process);
            // Each dependency on its own, so a probe can say which one is down.
            o.Services.Map(DatabaseHealthCheck.Name, r => r.Name == DatabaseHealthCheck.Name);
            o.Services.Map(BrokerHealthCheck.Name, r => r.Name == BrokerHealthCheck.Name);
        })
            // Answering at all is the liveness check: a service with no check reads as UNKNOWN.
            .AddCheck(process, () => HealthCheckResult.Healthy())
            .AddCheck<DatabaseHealthCheck>(DatabaseHealthCheck.Name);
        if (options.Bus.Equals("rabbitmq", StringComparison.OrdinalIgnoreCase))
        {
            health.AddCheck<BrokerHealthCheck>(BrokerHealthCheck.Name);
        }
        services.AddSingleton<Dependencies>();
        services.AddHostedService<DependencyMonitor>();
        return services;
    }

    /// <summary>The peer and delegate services, gRPC health and reflection.</summary>
    public static WebApplication MapFederationGrpc(this WebApplication app)
    {
        // The health answer names the release, so a load balancer's or operator's probe shows
        // which release each replica runs during a rolling upgrade (Identify says it too).
        app.Use((http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal))
            {
                http.Response.Headers[ReleaseHeader] = SoftwareVersion.Number;
            }
            return next(http);
        });
        app.MapGrpcService<PeerGrpcService>();
        app.MapGrpcService<DelegateGrpcService>();
        app.MapGrpcHealthChecksService();
        // The same two answers over plain HTTP/2 on the gRPC port, for a proxy whose active
        // checks cannot speak gRPC (HAProxy: compose/haproxy.cfg, adr/0017): 200 or 503.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = r => r.Name != LivenessCheck });
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = r => r.Name == LivenessCheck });
        app.MapGrpcReflectionService();
        return app;
    }
}
