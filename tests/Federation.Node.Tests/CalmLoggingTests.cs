using Federation.Node.Observability;
using Microsoft.Extensions.Logging;

namespace Federation.Node.Tests;

/// <summary>A warning repeated word for word is written once per window, then counted (docs/operators.md, "Outages").</summary>
public sealed class CalmLoggingTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 6, 5, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class Written : ILoggerProvider
    {
        public List<(LogLevel Level, string Text)> Lines { get; } = [];
        public ILogger CreateLogger(string categoryName) => new Logger(Lines);
        public void Dispose() { }

        private sealed class Logger(List<(LogLevel, string)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Add((logLevel, formatter(state, exception)));
        }
    }

    [Fact]
    public void AWarningRepeatedWithinAMinuteIsWrittenOnceThenSummarisedWithItsCount()
    {
        var clock = new Clock();
        var written = new Written();
        using var calm = new CalmLoggerProvider(written, clock, TimeSpan.FromMinutes(1));
        var log = calm.CreateLogger("MassTransit.Transports");

        for (var i = 0; i < 240; i++)
        {
            log.LogWarning("Connection to broker at {Host} failed", "127.0.0.1:5672");
            clock.Now += TimeSpan.FromMilliseconds(200);
        }
        // Another message, and information, are not held back.
        log.LogWarning("Connection to broker at {Host} failed", "10.0.0.9:5672");
        log.LogInformation("Delivered to beta");
        log.LogInformation("Delivered to beta");

        Assert.Equal(
        [
            (LogLevel.Warning, "Connection to broker at 127.0.0.1:5672 failed"),
            (LogLevel.Warning, "Connection to broker at 10.0.0.9:5672 failed"),
            (LogLevel.Information, "Delivered to beta"),
            (LogLevel.Information, "Delivered to beta"),
        ], written.Lines);

        // 48 s have passed; at the end of the minute the rest is counted in one line.
        clock.Now += TimeSpan.FromSeconds(13);
        calm.Flush();

        Assert.Equal((LogLevel.Warning, "The same, 239 times more in the last minute: Connection to broker at 127.0.0.1:5672 failed"), written.Lines[^1]);
        Assert.Equal(5, written.Lines.Count);

        // Quiet for a minute: forgotten, so its next occurrence is written again at once.
        clock.Now += TimeSpan.FromMinutes(2);
        calm.Flush();
        log.LogWarning("Connection to broker at {Host} failed", "127.0.0.1:5672");
        Assert.Equal((LogLevel.Warning, "Connection to broker at 127.0.0.1:5672 failed"), written.Lines[^1]);
        Assert.Equal(6, written.Lines.Count);
    }
}
