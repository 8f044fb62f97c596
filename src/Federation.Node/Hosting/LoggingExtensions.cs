namespace Federation.Node.Hosting;

public static class LoggingExtensions
{
    /// <summary>One line per entry, and only warnings from the frameworks underneath.</summary>
    public static ILoggingBuilder AddFederationLogging(this ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        // A warning repeated word for word is written once a minute, with a count (an outage
        // would otherwise repeat it several times a second).
        Observability.CalmLoggerProvider.WrapConsole(logging, TimeSpan.FromMinutes(1));
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("MassTransit", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        // The health service logs every unhealthy check at every probe; Observability.Dependencies
        // says when a dependency goes down and when it is back, once each.
        logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);
        return logging;
    }
}
