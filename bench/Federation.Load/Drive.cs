using System.Diagnostics;
using System.Net;
using Grpc.Net.Client;

namespace Federation.Load;

/// <summary>Runs many concurrent callers and counts what completes inside the measured window.</summary>
public static class Drive
{
    /// <summary>
    /// Starts <paramref name="callers"/> loops of <paramref name="call"/>; counts the calls that
    /// complete between the end of <paramref name="warmup"/> and the end of <paramref name="window"/>.
    /// A call returns false when the caller has nothing more to send.
    /// </summary>
    public static async Task<(long Count, double Seconds, long Errors)> RunAsync(
        int callers, TimeSpan warmup, TimeSpan window, Func<int, Task<bool>> call)
    {
        var clock = Stopwatch.StartNew();
        var start = warmup.Ticks;
        var stop = (warmup + window).Ticks;
        long count = 0, errors = 0, lastDone = 0;
        var tasks = Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
        {
            while (clock.Elapsed.Ticks < stop)
            {
                bool more;
                try
                {
                    more = await call(i);
                }
                catch (Exception) when (clock.Elapsed.Ticks < stop)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }
                var now = clock.Elapsed.Ticks;
                if (now >= start && now < stop)
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
        // If the callers ran out of work early, the window is shorter than planned.
        var end = Math.Min(stop, Math.Max(lastDone, start + 1));
        return (count, TimeSpan.FromTicks(end - start).TotalSeconds, errors);
    }

    private static void InterlockedMax(ref long target, long value)
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
