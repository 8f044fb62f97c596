using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Console;

namespace Federation.Node.Observability;

/// <summary>
/// Wraps the console logger so that a warning or error repeated word for word (a broker
/// that keeps refusing, a peer that keeps failing) is written once per window, then
/// summarised as "the same, N times more in the last minute" instead of filling the log
/// several times a second for as long as an outage lasts. Information and below pass
/// through untouched.
/// </summary>
[ProviderAlias("Console")] // so Logging:Console:* settings still apply to it
public sealed class CalmLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private sealed class Seen(ILogger logger, LogLevel level, string message, DateTimeOffset since)
    {
        public ILogger Logger { get; } = logger;
        public LogLevel Level { get; } = level;
        public string Message { get; } = message;
        public DateTimeOffset Since { get; set; } = since;
        public int Suppressed;
    }

    private readonly ILoggerProvider _inner;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, Seen> _seen = new();
    private readonly ITimer _flush;

    public CalmLoggerProvider(ILoggerProvider inner, TimeProvider clock, TimeSpan window)
    {
        _inner = inner;
        _clock = clock;
        Window = window;
        _flush = clock.CreateTimer(_ => Flush(), null, window, window);
    }

    public TimeSpan Window { get; }

    public ILogger CreateLogger(string categoryName) => new CalmLogger(_inner.CreateLogger(categoryName), categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (_inner is ISupportExternalScope scoped)
        {
            scoped.SetScopeProvider(scopeProvider);
        }
    }

    /// <summary>Whether to write this entry now; counts it if not.</summary>
    private bool Admit(ILogger logger, string category, LogLevel level, string message)
    {
        var now = _clock.GetUtcNow();
        var key = $"{category}\u0001{(int)level}\u0001{message}";
        if (!_seen.TryGetValue(key, out var seen))
        {
            seen = new Seen(logger, level, message, now);
            if (_seen.TryAdd(key, seen))
            {
                return true; // the first time
            }
            seen = _seen[key];
        }
        lock (seen)
        {
            if (now - seen.Since < Window)
            {
                seen.Suppressed++;
                return false;
            }
            Summarise(seen);
            seen.Since = now;
            return true;
        }
    }

    /// <summary>Summarises what was held back in windows that have ended, and forgets entries gone quiet.</summary>
    public void Flush()
    {
        var now = _clock.GetUtcNow();
        foreach (var (key, seen) in _seen)
        {
            lock (seen)
            {
                if (now - seen.Since < Window)
                {
                    continue;
                }
                if (seen.Suppressed > 0)
                {
                    Summarise(seen);
                    seen.Since = now;
                }
                else
                {
                    _seen.TryRemove(key, out _);
                }
            }
        }
    }

    private void Summarise(Seen seen)
    {
        if (seen.Suppressed == 0)
        {
            return;
        }
        var minutes = Window.TotalMinutes;
        seen.Logger.Log(seen.Level, "The same, {Count} times more in the last {Window}: {Message}", seen.Suppressed,
            minutes == 1 ? "minute" : $"{minutes:0.##} minutes", seen.Message);
        seen.Suppressed = 0;
    }

    public void Dispose()
    {
        _flush.Dispose();
        Flush();
        _inner.Dispose();
    }

    private sealed class CalmLogger(ILogger inner, string category, CalmLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel < LogLevel.Warning || !inner.IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }
            var message = formatter(state, exception);
            var text = exception is null ? message : $"{message} {exception.GetType().Name}: {exception.Message}";
            if (owner.Admit(inner, category, logLevel, text))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }

    /// <summary>Puts the calm wrapper around the console logger <c>AddSimpleConsole</c> registered.</summary>
    public static void WrapConsole(ILoggingBuilder logging, TimeSpan window)
    {
        var console = logging.Services.LastOrDefault(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider))
            ?? throw new InvalidOperationException("The console logger must be added before it is wrapped.");
        logging.Services.Remove(console);
        logging.Services.AddSingleton<ILoggerProvider>(sp =>
            new CalmLoggerProvider(ActivatorUtilities.CreateInstance<ConsoleLoggerProvider>(sp), TimeProvider.System, window));
    }
}
