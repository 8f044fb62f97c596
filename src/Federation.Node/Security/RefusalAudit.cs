using System.Globalization;
using Federation.Core;
using Federation.Core.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Federation.Node.Security;

/// <summary>
/// Audits refusals of callers with no valid token (gRPC calls and dashboard sign-ins)
/// without letting them flood the log (issue 15, item 11): the first refusal from a source
/// in a window is written at once, the rest of that window are counted and written as one
/// summary row when it ends. Those callers are not identified, so they are counted by the
/// address they called from; past <see cref="MaxSources"/> addresses a window, the rest
/// share one count.
/// The open windows are written when the host stops, not when the container is disposed:
/// by then the store may already be disposed (it is registered under several read roles,
/// each of which the container disposes on its own).
/// </summary>
public sealed class RefusalAudit : IHostedService
{
    public const string Who = "unauthenticated";
    public const int MaxSources = 1000;
    private const string OtherSources = "other addresses";

    private readonly IFederationStore _store;
    private readonly TimeSpan _window;
    private readonly Dictionary<string, Window> _open = [];
    private readonly Lock _gate = new();
    private readonly Timer _timer;

    public RefusalAudit(IFederationStore store, IOptions<NodeOptions> options)
    {
        _store = store;
        _window = options.Value.AuditRefusalWindow;
        _timer = new Timer(_ => _ = FlushAsync(all: false), null, _window, _window);
    }

    private sealed class Window(string source, DateTimeOffset start)
    {
        public string Source { get; } = source;
        public DateTimeOffset Start { get; } = start;
        public int More { get; set; }
    }

    /// <summary>Records one refusal of <paramref name="action"/> from <paramref name="source"/> (an address).</summary>
    public async Task RecordAsync(string source, string action, string outcome)
    {
        var now = DateTimeOffset.UtcNow;
        bool first;
        List<Window> ended;
        lock (_gate)
        {
            ended = Take(now, all: false);
            var key = _open.ContainsKey(source) || _open.Count < MaxSources ? source : OtherSources;
            if (_open.TryGetValue(key, out var open))
            {
                open.More++;
                first = false;
            }
            else
            {
                _open[key] = new Window(key, now);
                first = true;
            }
        }
        await WriteAsync(ended);
        if (first)
        {
            await _store.WriteAsync(tx => tx.InsertAudit($"{Who} ({source})", "none", action, null, outcome));
        }
    }

    /// <summary>Writes the summaries of windows that have ended (all of them, when the node stops).</summary>
    public Task FlushAsync(bool all)
    {
        List<Window> ended;
        lock (_gate)
        {
            ended = Take(DateTimeOffset.UtcNow, all);
        }
        return WriteAsync(ended);
    }

    private List<Window> Take(DateTimeOffset now, bool all)
    {
        var ended = _open.Values.Where(w => all || now - w.Start >= _window).ToList();
        foreach (var w in ended)
        {
            _open.Remove(w.Source);
        }
        return ended;
    }

    private async Task WriteAsync(List<Window> ended)
    {
        foreach (var w in ended.Where(w => w.More > 0))
        {
            var since = w.Start.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
            await _store.WriteAsync(tx => tx.InsertAudit($"{Who} ({w.Source})", "none", "refused calls (summary)", null,
                $"{w.More.ToString(CultureInfo.InvariantCulture)} more refused since {since}"));
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _timer.DisposeAsync();
        await FlushAsync(all: true);
    }
}
