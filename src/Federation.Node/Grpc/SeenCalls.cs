using System.Collections.Concurrent;

namespace Federation.Node.Grpc;

/// <summary>
/// The call ids this process has accepted, each kept until its call's time leaves the clock
/// window (after which the clock check refuses the call anyway). In memory and per process:
/// with several replicas behind one address, a replay sent to another replica is not caught
/// here (docs/security.md "Peer calls").
/// </summary>
public sealed class SeenCalls
{
    /// <summary>At most this many ids are remembered; past it, new calls are refused until old ones expire.</summary>
    public const int Capacity = 200_000;

    private readonly ConcurrentDictionary<string, long> _expiresAt = new();
    private long _nextSweep;

    /// <summary>
    /// Claims <paramref name="callId"/> from <paramref name="caller"/> until
    /// <paramref name="expiresAtMs"/>; false when it was seen already (a replay) or the
    /// memory is full of unexpired ids (a flood, refused rather than forgetting ids early).
    /// </summary>
    public bool TryClaim(string caller, string callId, long expiresAtMs, long nowMs, out bool full)
    {
        full = false;
        if (_expiresAt.Count >= Capacity || nowMs >= Interlocked.Read(ref _nextSweep))
        {
            Sweep(nowMs);
        }
        if (_expiresAt.Count >= Capacity)
        {
            full = true;
            return false;
        }
        return _expiresAt.TryAdd($"{caller}/{callId}", expiresAtMs);
    }

    private void Sweep(long nowMs)
    {
        Interlocked.Exchange(ref _nextSweep, nowMs + 10_000);
        foreach (var (key, expires) in _expiresAt)
        {
            if (expires < nowMs)
            {
                _expiresAt.TryRemove(key, out _);
            }
        }
    }
}
