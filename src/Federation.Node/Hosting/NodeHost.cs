using Federation.Node.Application;
using Federation.Node.Dashboard;
using Federation.Node.Delivery;
using Federation.Node.Grpc;
using Federation.Node.Identity;
using Federation.Node.Log;
using Federation.Node.Security;
using Federation.Node.Notifications;
using Federation.Node.Storage;
using MassTransit;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Hosting;

/// <summary>Builds a node: one process, gRPC on Kestrel, SQLite, MassTransit's in-memory bus.</summary>
public static class NodeHost
{
    private static readonly Dictionary<string, string> Switches = new()
    {
        ["--name"] = "Node:Name",
        ["--port"] = "Node:Port",
        ["--host"] = "Node:Host",
        ["--data"] = "Node:DataDir",
        ["--public-address"] = "Node:PublicAddress",
        ["--bus"] = "Node:Bus",
        ["--region"] = "Node:Region",
        ["--dashboard-port"] = "Node:DashboardPort",
    };

    /// <summary>The node's settings from the same sources as a running node (for the admin commands).</summary>
    public static NodeOptions ReadOptions(string[] args)
    {
        var config = new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args, Switches)
            .Build();
        return config.GetSection("Node").Get<NodeOptions>() ?? new NodeOptions();
    }

    public static WebApplication Build(string[] args, Action<NodeOptions>? configure = null, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        builder.Configuration.AddCommandLine(args, Switches);
        builder.Services.Configure<NodeOptions>(builder.Configuration.GetSection("Node"));
        if (configure is not null)
        {
            builder.Services.PostConfigure(configure);
        }
        var options = builder.Configuration.GetSection("Node").Get<NodeOptions>() ?? new NodeOptions();
        configure?.Invoke(options);

        builder.WebHost.ConfigureKestrel(k =>
        {
            // gRPC over cleartext HTTP/2 on loopback for development; see README "Security".
            k.Listen(System.Net.IPAddress.Parse(options.Host), options.Port, l => l.Protocols = HttpProtocols.Http2);
            k.Limits.MaxRequestBodySize = options.MaxMessageBytes + 1024;
            DashboardSetup.Listen(k, options);
        });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("MassTransit", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(sp => NodeIdentity.LoadOrCreate(Directory.CreateDirectory(sp.GetRequiredService<IOptions<NodeOptions>>().Value.ResolvedDataDir).FullName));
        services.AddSingleton<SqliteStore>();
        services.AddSingleton<PeerKeys>();
        services.AddSingleton<OperatorToken>();
        services.AddSingleton<DelegateTokens>();
        services.AddSingleton<RateLimits>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<PeerClients>();
        services.AddSingleton<OriginLog>();
        services.AddSingleton<ReplicaLog>();
        services.AddSingleton<PeerDirectory>();
        services.AddSingleton<PeerAuthenticator>();
        services.AddSingleton<CallOutCommands>();
        services.AddSingleton<FightCommands>();
        services.AddSingleton<Submissions>();
        services.AddSingleton<Confidential>();
        services.AddSingleton<PurgeSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<PurgeSweeper>());
        services.AddSingleton<BalanceView>();
        services.AddSingleton<PeerCalls>();
        services.AddSingleton<PeerDelivery>();
        services.AddSingleton<Backfill>();
        services.AddSingleton<CatchUp>();
        services.AddSingleton<CatchUpSignal>();
        services.AddSingleton<DeadLetters>();
        services.AddHostedService<Dispatcher>();
        services.AddSingleton<StandDownResender>();
        services.AddHostedService(sp => sp.GetRequiredService<StandDownResender>());
        services.AddCallOutNotifications(builder.Configuration);
        services.AddHostedService<CatchUpScheduler>();

        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = options.MaxMessageBytes;
            o.Interceptors.Add<ErrorInterceptor>();
            o.Interceptors.Add<DelegateAuthInterceptor>();
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck("database", () =>
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());

        services.AddMassTransit(x =>
        {
            x.AddConsumer<DeliverToPeerConsumer>().Endpoint(e =>
            {
                // Deliveries mostly wait on the network; the bus's default (a few per core)
                // would serve a thousand peers a handful at a time.
                e.ConcurrentMessageLimit = options.DeliveryConcurrency;
                e.PrefetchCount = options.DeliveryConcurrency;
            });
            x.AddConsumer<BackfillObjectConsumer>();
            x.AddConsumer<CatchUpFromPeerConsumer>();
            if (options.Bus.Equals("rabbitmq", StringComparison.OrdinalIgnoreCase))
            {
                var r = options.RabbitMq;
                if (r.QuorumQueues)
                {
                    // Replicated queues for a RabbitMQ cluster; see https://www.rabbitmq.com/docs/quorum-queues
                    x.AddConfigureEndpointsCallback((_, _, e) =>
                    {
                        if (e is IRabbitMqReceiveEndpointConfigurator q)
                        {
                            q.SetQuorumQueue();
                        }
                    });
                }
                x.UsingRabbitMq((ctx, cfg) =>
                {
                    cfg.Host(r.Host, r.Port, r.VirtualHost, h =>
                    {
                        h.Username(r.Username);
                        h.Password(r.Password);
                        // A publish completes only once the broker has taken the message.
                        h.PublisherConfirmation = true;
                    });
                    // Durable queues and exchanges, persistent messages: a broker restart keeps
                    // queued work. MassTransit acknowledges a message only after its consumer
                    // returns (manual acks), so work a crashed node was doing is redelivered.
                    cfg.Durable = true;
                    cfg.AutoDelete = false;
                    cfg.PrefetchCount = r.PrefetchCount;
                    cfg.ConfigureEndpoints(ctx);
                });
            }
            else if (options.Bus.Equals("inmemory", StringComparison.OrdinalIgnoreCase))
            {
                // The in-memory transport may lose messages on a crash; nothing is lost
                // because the outbox rows are in the database and the dispatcher re-finds them.
                x.UsingInMemory((ctx, cfg) => cfg.ConfigureEndpoints(ctx));
            }
            else
            {
                throw new InvalidOperationException($"Node:Bus is '{options.Bus}'; use 'inmemory' or 'rabbitmq'.");
            }
        });

        DashboardSetup.AddDashboard(services, options);

        customize?.Invoke(builder);
        var app = builder.Build();
        DashboardSetup.MapDashboard(app, options);
        app.MapGrpcService<PeerGrpcService>();
        app.MapGrpcService<DelegateGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();

        // Open the store and pin keys before serving, so the first call sees a ready node.
        app.Services.GetRequiredService<SqliteStore>();
        app.Services.GetRequiredService<OperatorToken>();
        app.Services.GetRequiredService<PeerDirectory>().LoadPinnedKeys();
        // Lets `solnet --data <folder>` find the node without being told its address.
        File.WriteAllText(Path.Combine(options.ResolvedDataDir, "address"), options.ResolvedPublicAddress + "\n");
        return app;
    }

    /// <summary>What an operator needs to know at start-up: where the node is and how others add it.</summary>
    public static string Banner(WebApplication app)
    {
        var o = app.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
        var id = app.Services.GetRequiredService<NodeIdentity>();
        var token = app.Services.GetRequiredService<OperatorToken>();
        var store = app.Services.GetRequiredService<SqliteStore>();
        return $"""

            Node '{o.Name}' is running.
              gRPC address:   {o.ResolvedPublicAddress}
              fingerprint:    {id.Fingerprint}
              data folder:    {Path.GetFullPath(o.ResolvedDataDir)}
              database:       {Path.GetFullPath(store.Path)}
              operator token: {token.Path}
              dashboard:      {DashboardSetup.Address(o)}
            Another node's operator adds this one with:
              solnet --data <their data folder> peer add {o.ResolvedPublicAddress} {id.Fingerprint}

            """;
    }
}
