using Federation.Core;
using Federation.Node.Delivery;
using MassTransit;

namespace Federation.Node.Hosting;

public static class BusExtensions
{
    /// <summary>
    /// MassTransit with the delivery consumers, on RabbitMQ or in memory (Node:Bus). Anything
    /// that publishes waits for <see cref="BusReadiness"/> first.
    /// </summary>
    public static IServiceCollection AddFederationBus(this IServiceCollection services, NodeOptions options)
    {
        RefuseUsageTelemetry(Environment.GetEnvironmentVariable(UsageTelemetryVariable));
        services.AddMassTransit(x =>
        {
            // MassTransit reports its version, the framework, the OS and the time zone to its
            // vendor a few minutes after the bus starts, unless told not to. A node dials only
            // what its operator configured (docs/security.md, "Nothing phones home").
            x.DisableUsageTelemetry();
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
                UseRabbitMq(x, options.RabbitMq);
            }
            else if (options.Bus.Equals("inmemory", StringComparison.OrdinalIgnoreCase))
            {
                // The in-memory transport may lose messages on a crash; nothing is lost
                // because the outbox rows are in the database and the dispatcher re-finds them.
                x.UsingInMemory((ctx, cfg) => cfg.ConfigureEndpoints(ctx));
            }
            else
            {
                throw new NodeStartRefusedException($"Node:Bus is '{options.Bus}' (--bus); use 'inmemory' or 'rabbitmq'.");
            }
        });
        return services;
    }

    private static void UseRabbitMq(IBusRegistrationConfigurator x, RabbitMqOptions r)
    {
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

    /// <summary>MassTransit reads this itself, and it overrides <c>DisableUsageTelemetry</c>.</summary>
    public const string UsageTelemetryVariable = "MASSTRANSIT_USAGE_TELEMETRY";

    /// <summary>
    /// Refuses to start when <see cref="UsageTelemetryVariable"/> would turn the usage report
    /// back on: "true" or "1", read as MassTransit reads it.
    /// </summary>
    public static void RefuseUsageTelemetry(string? value)
    {
        var on = bool.TryParse(value, out var enabled) ? enabled : int.TryParse(value, out var number) && number == 1;
        if (on)
        {
            throw new NodeStartRefusedException(
                $"{UsageTelemetryVariable} is '{value}', which would make MassTransit report this node's versions and time zone to its vendor. "
                + $"A node dials only what its operator configured: unset {UsageTelemetryVariable} (or set it to false) and start again.");
        }
    }
}
