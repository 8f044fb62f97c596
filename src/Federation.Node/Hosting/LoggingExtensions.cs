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
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("MassTransit", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        return logging;
    }
}
