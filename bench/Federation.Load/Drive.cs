using System.Diagnostics;
using System.Net;
using Grpc.Net.Client;

namespace Federation.Load;

/// <summary>Runs many concurrent callers and counts what completes inside the measured window.</summary>
public static class Drive
{
    /// <summary>
    /// Starts <paramref name="callers"/> loops of <paramref name="call"/>; counts the calls that
    /// complete inside the measured window (see <see cref="MeasuredWindow"/>).
    /// A call returns false when the caller has nothing more to send.
    /// </summary>
    public static async Task<(long Count, double Seconds, long Errors)> RunAsync(
        int callers, Profile p, Func<int, Task<bool>> call)
    {
        var window = new MeasuredWindow(p);
        long count = 0, errors = 0, lastDone = 0;
        var tasks = Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
        {
            while (!window.Closed)
            {
                bool more;
                try
                {
                    more = await call(i);
                }
                catch (Exception) when (!window.Closed)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }
                var now = window.Now;
                if (window.Holds(now))
                {
                    Interlocked.Increment(ref count);
                    InterlockedMax(ref lastDone, now);
                }
                if (!more)
                {
                    return;
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        window.Report();
        return (count, window.Seconds(lastDone), errors);
    }

    internal static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>
    /// Channels for many callers: HTTP/2 allows about 100 streams on one connection, so
    /// callers are spread over a few connections, as a busy peer's client would be.
    /// </summary>
    public static GrpcChannel[] Channels(string address, int callers) =>
        Enumerable.Range(0, Math.Max(1, (callers + 31) / 32)).Select(_ => GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, AutomaticDecompression = DecompressionMethods.None },
        })).ToArray();
}

/// <summary>
/// When a rate is measured: from once the process is warm until the profile's window later.
/// Warm means at least the profile's warm-up has passed and then the JIT has compiled no new
/// method for half a second (at most <see cref="Profile.WarmupMax"/> in all). With a fixed
/// second of warm-up, the JIT compiling the node's paths took a tenth of the CPU samples of
/// the submissions' window, and the same measurement run again in the same process (sealing
/// on, after sealing off) came out up to 1.5× faster: the first run measured the JIT.
/// </summary>
public sealed class MeasuredWindow
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _start = long.MaxValue;
    private long _stop = long.MaxValue;

    private readonly Profile _p;

    public MeasuredWindow(Profile p)
    {
        _p = p;
        _ = OpenWhenWarmAsync();
    }

    /// <summary>How long the warm-up took (zero until the window opens).</summary>
    public TimeSpan Warmup { get; private set; }

    public long Now => _clock.Elapsed.Ticks;

    public bool Closed => Now >= Volatile.Read(ref _stop);

    public bool Holds(long ticks) => ticks >= Volatile.Read(ref _start) && ticks < Volatile.Read(ref _stop);

    /// <summary>The window's length in seconds: shorter than planned if the callers ran out of work (their last completion).</summary>
    public double Seconds(long lastDone)
    {
        var start = Volatile.Read(ref _start);
        return start == long.MaxValue ? 1e-9 : TimeSpan.FromTicks(Math.Min(Volatile.Read(ref _stop), Math.Max(lastDone, start + 1)) - start).TotalSeconds;
    }

    /// <summary>Says how long the warm-up took, on the progress lines.</summary>
    public void Report() => Load.Report.Progress(Warmup == TimeSpan.Zero
        ? "  (the callers ran out of work before the process was warm)"
        : $"  measured from {Warmup.TotalSeconds:F1} s on, once the JIT had compiled nothing new for {Quiet.TotalSeconds:F1} s (or after {_p.WarmupMax.TotalSeconds:0.#} s)");

    private async Task OpenWhenWarmAsync()
    {
        var p = _p;
        await Task.Delay(p.Warmup);
        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quietSince = _clock.Elapsed;
        while (_clock.Elapsed < p.WarmupMax && _clock.Elapsed - quietSince < Quiet)
        {
            await Task.Delay(100);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                compiled = now;
                quietSince = _clock.Elapsed;
            }
        }
        Warmup = _clock.Elapsed;
        var start = _clock.Elapsed.Ticks;
        Volatile.Write(ref _stop, start + p.Window.Ticks);
        Volatile.Write(ref _start, start);
    }
}
