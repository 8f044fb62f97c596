using Federation.Core;
using Federation.Core.Commands;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Core.Queries;
using Federation.Core.Storage;
using Federation.Node.Dashboard;
using Federation.Node.Delivery;
using Federation.Node.Grpc;
using Federation.Node.Jobs;
using Federation.Node.Notifications;
using Federation.Node.Observability;
using Federation.Node.Peering;
using Federation.Node.Security;
using Federation.Storage;
using MassTransit;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
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
        ["--database"] = "Node:Database",
        ["--region"] = "Node:Region",
        ["--dashboard-port"] = "Node:DashboardPort",
        ["--tls"] = "Node:Tls",
    };

    /// <summary>
    /// Lets on/off settings be given bare (<c>--tls</c>): configuration's command-line
    /// reader would otherwise take the next argument as the value.
    /// </summary>
    private static string[] BareSwitches(string[] args)
    {
        var result = new List<string>(args.Length + 1);
        for (var i = 0; i < args.Length; i++)
        {
            result.Add(args[i]);
            if (args[i] == "--tls" && (i + 1 == args.Length || !bool.TryParse(args[i + 1], out _)))
            {
                result.Add("true");
            }
        }
        return [.. result];
    }

    /// <summary>The node's settings from the same sources as a running node (for the admin commands).</summary>
    public static NodeOptions ReadOptions(string[] args)
    {
        args = BareSwitches(args);
        var config = new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args, Switches)
            .Build();
        return config.GetSection("Node").Get<NodeOptions>() ?? new NodeOptions();
    }

    public static WebApplication Build(string[] args, Action<NodeOptions>? configure = null, Action<WebApplicationBuilder>? customize = null)
    {
        args = BareSwitches(args);
        // The slim builder leaves out what a node does not use (IIS, QUIC, hosting start-up
        // assemblies, static web assets): less to load and keep resident (README "Performance").
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args });
        builder.Configuration.AddCommandLine(args, Switches);
        builder.Services.Configure<NodeOptions>(builder.Configuration.GetSection("Node"));
        if (configure is not null)
        {
            builder.Services.PostConfigure(configure);
        }
        var options = builder.Configuration.GetSection("Node").Get<NodeOptions>() ?? new NodeOptions();
        configure?.Invoke(options);

        if (options.Tls)
        {
            // The slim builder has HTTPS support off until asked for.
            builder.WebHost.UseKestrelHttpsConfiguration();
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            // gRPC over HTTP/2: cleartext on loopback for development, or TLS (Node:Tls);
            // see README "Security".
            k.Listen(System.Net.IPAddress.Parse(options.Host), options.Port, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                if (options.Tls)
                {
                    l.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = k.ApplicationServices.GetRequiredService<NodeIdentity>().Certificate,
                        // Asked for, not required: delegate clients (solnet, grpcurl) have no
                        // certificate. Peer calls without one are refused by PeerAuthenticator.
                        ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                        // Peers' certificates are self-signed, so no chain would validate: whether
                        // one belongs to the node it claims to be is checked against the pinned
                        // keys in PeerAuthenticator, per call.
                        ClientCertificateValidation = (_, _, _) => true,
                    });
                }
            });
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
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<NodeOptions>>().Value;
            return NodeIdentity.LoadOrCreate(Directory.CreateDirectory(o.ResolvedDataDir).FullName,
                [o.Host, Uri.TryCreate(o.ResolvedPublicAddress, UriKind.Absolute, out var u) ? u.Host : ""]);
        });
        services.AddSingleton(sp => Stores.Open(sp.GetRequiredService<IOptions<NodeOptions>>().Value));
        services.AddSingleton<NodeClock>();
        // Registered before the jobs it guards, so that it stops after them and lets go of their leases.
        services.AddSingleton<JobLeases>();
        services.AddHostedService(sp => sp.GetRequiredService<JobLeases>());
        services.AddSingleton<PeerKeys>();
        services.AddSingleton<OperatorToken>();
        services.AddSingleton<DelegateTokens>();
        services.AddSingleton<RateLimits>();
        services.AddSingleton<DelegateGate>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<PeerClients>();
        services.AddSingleton<OriginLog>();
        services.AddSingleton<ReplicaLog>();
        services.AddSingleton<PeerDirectory>();
        services.AddSingleton<PeerRoster>();
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
        services.AddSingleton<PeerSender>();
        services.AddSingleton<DeliveryLeases>();
        services.AddSingleton<DeliveryRecorder>();
        services.AddSingleton<Backfill>();
        services.AddSingleton<CatchUp>();
        services.AddSingleton<CatchUpSignal>();
        services.AddSingleton<DeadLetters>();
        services.AddSingleton<BusReadiness>();
        services.AddHostedService<Dispatcher>();
        services.AddSingleton<StandDownResender>();
        services.AddHostedService(sp => sp.GetRequiredService<StandDownResender>());
        services.AddCallOutNotifications(builder.Configuration);
        services.AddHostedService<CatchUpScheduler>();
        services.AddNodeTelemetry(builder.Configuration, options.Name);

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
            x.AddBusObserver(sp => sp.GetRequiredService<BusReadiness>());
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
        // Last, after everything that registers gRPC services: malformed request bytes get
        // INVALID_ARGUMENT with a clear message instead of UNKNOWN (see ReadableRequests).
        services.AddReadableRequests();

        customize?.Invoke(builder);
        var app = builder.Build();
        DashboardSetup.MapDashboard(app, options);
        app.MapGrpcService<PeerGrpcService>();
        app.MapGrpcService<DelegateGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();

        // Open the store and pin keys before serving, so the first call sees a ready node.
        app.Services.GetRequiredService<IFederationStore>();
        app.Services.GetRequiredService<OperatorToken>();
        app.Services.GetRequiredService<PeerDirectory>().LoadPinnedKeys();
        if (options.ResolvedDashboardPort > 0 && DashboardKeys.InDatabase(options))
        {
            DashboardKeys.EnsureKeyAsync(app.Services, CancellationToken.None).GetAwaiter().GetResult();
        }
        // Lets `solnet --data <folder>` find the node without being told its address, and
        // check (over TLS) that the node answering there is this one.
        File.WriteAllText(Path.Combine(options.ResolvedDataDir, "address"), options.ResolvedPublicAddress + "\n");
        File.WriteAllText(Path.Combine(options.ResolvedDataDir, "fingerprint"),
            app.Services.GetRequiredService<NodeIdentity>().Fingerprint + "\n");
        return app;
    }

    /// <summary>What an operator needs to know at start-up: where the node is and how others add it.</summary>
    public static string Banner(WebApplication app)
    {
        var o = app.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
        var id = app.Services.GetRequiredService<NodeIdentity>();
        var token = app.Services.GetRequiredService<OperatorToken>();
        var store = app.Services.GetRequiredService<IFederationStore>();
        return $"""

            Node '{o.Name}' is running.
              gRPC address:   {o.ResolvedPublicAddress}
              transport:      {(o.Tls ? "TLS, certificate from the node key; peers must present theirs" : "cleartext (loopback development; --tls for TLS)")}
              fingerprint:    {id.Fingerprint}
              data folder:    {Path.GetFullPath(o.ResolvedDataDir)}
              database:       {store.Description}
              operator token: {token.Path}
              dashboard:      {DashboardSetup.Address(o)}
              telemetry:      {TelemetrySetup.Describe(app.Configuration)}
            Another node's operator adds this one with:
              solnet --data <their data folder> peer add {o.ResolvedPublicAddress} {id.Fingerprint}

            """;
    }
}

/// <summary>
/// Reports whether the database answers: a replica that cannot reach the shared
/// PostgreSQL says NOT_SERVING, so a load balancer stops sending it work.
/// </summary>
public sealed class DatabaseHealthCheck(IFederationStore store) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            store.Count("peers");
            return Task.FromResult(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        }
        catch (Exception ex)
        {
            // The reason only: a health probe's answer must not carry data.
            return Task.FromResult(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy($"database unreachable ({ex.GetType().Name})"));
        }
    }
}
