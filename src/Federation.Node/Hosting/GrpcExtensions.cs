using Federation.Core;
using Federation.Node.Grpc;
using Federation.Node.Observability;
using Federation.Node.Security;

namespace Federation.Node.Hosting;

public static class GrpcExtensions
{
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
        var health = services.AddGrpcHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        if (options.Bus.Equals("rabbitmq", StringComparison.OrdinalIgnoreCase))
        {
            health.AddCheck<BrokerHealthCheck>("broker");
        }
        return services;
    }

    /// <summary>The peer and delegate services, gRPC health and reflection.</summary>
    public static WebApplication MapFederationGrpc(this WebApplication app)
    {
        app.MapGrpcService<PeerGrpcService>();
        app.MapGrpcService<DelegateGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }
}
