namespace Federation.Node.Delivery;

/// <summary>Exponential backoff with jitter; the timing is kept in the database, not in a delayed message.</summary>
public static class Backoff
{
    public static TimeSpan Delay(int attempts, TimeSpan baseDelay, TimeSpan max, TimeSpan? peerHint = null)
    {
        var exp = Math.Min(attempts, 30);
        var ms = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, exp), max.TotalMilliseconds);
        // Full jitter in [0.5, 1.5) spreads retries so a recovered peer is not hit by everyone at once.
        var jittered = TimeSpan.FromMilliseconds(ms * (0.5 + Random.Shared.NextDouble()));
        return peerHint is { } hint && hint > jittered ? hint : jittered;
    }
}
