namespace Federation.Node.Delivery;

/// <summary>
/// Wakes the dispatcher when a commit adds outbox rows, so delivery starts at once
/// instead of at the next poll. Losing a poke loses nothing: the poll finds the rows.
/// </summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _poked = new(0, 1);

    public void Poke()
    {
        if (_poked.CurrentCount == 0)
        {
            try
            {
                _poked.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another poke got there first; one pending wake-up is enough.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _poked.WaitAsync(timeout, ct);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _unfinished = new();

    /// <summary>
    /// A delivery run for <paramref name="peerId"/> ended without being able to write that it
    /// ended (the database was unreachable): its doorbell still reads as rung and its lease as
    /// held, which would hold that peer's delivery back for a ring timeout. The dispatcher
    /// clears both at its next pass that reaches the database.
    /// </summary>
    public void Unfinished(string peerId, bool wake = true)
    {
        _unfinished.TryAdd(peerId, 0);
        if (wake)
        {
            Poke();
        }
    }

    /// <summary>Peers whose last run could not note its end; the caller clears them (or hands them back).</summary>
    public IReadOnlyList<string> TakeUnfinished()
    {
        var peers = _unfinished.Keys.ToList();
        foreach (var p in peers)
        {
            _unfinished.TryRemove(p, out _);
        }
        return peers;
    }
}
