using Grpc.Core;
using Xunit;

namespace Federation.Testing;

/// <summary>Polls with a timeout: tests wait for a condition, never for a fixed time.</summary>
public static class Eventually
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                // not there yet
            }
            await Task.Delay(100);
        }
        Assert.Fail($"Timed out after {seconds}s waiting for: {what}");
    }

    /// <summary>Polls until <paramref name="condition"/> holds; throws a <see cref="TimeoutException"/> with the diagnostics after the timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? diagnostics = null)
    {
        var until = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0}s waiting for: {what}\n{diagnostics?.Invoke()}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>As <see cref="UntilAsync(Func{bool}, TimeSpan, string, Func{string}?)"/>, for a condition that has to ask (polled every 250 ms).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? diagnostics = null)
    {
        var until = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0}s waiting for: {what}\n{diagnostics?.Invoke()}");
            }
            await Task.Delay(250);
        }
    }
}
