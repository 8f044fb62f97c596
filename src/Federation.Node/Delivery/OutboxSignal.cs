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

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _running = new();
    private volatile bool _databaseTrouble;

    /// <summary>
    /// Claims the in-process run for <paramref name="peerId"/>; false if one is under way.
    /// The lease in the database keeps replicas apart, but its owner is the process, so it
    /// cannot keep two runs of one process apart: this does.
    /// </summary>
    public bool TryBeginRun(string peerId) => _running.TryAdd(peerId, 0);

    public void EndRun(string peerId) => _running.TryRemove(peerId, out _);

    /// <summary>
    /// A write about delivery failed: the database was unreachable, and a doorbell may be
    /// noted as rung with nothing to answer it (a run that could not note its end, or a
    /// ring whose commit went through though the server died before saying so). Without
    /// this, those peers would wait out the ring timeout once the database is back.
    /// </summary>
    public void DatabaseTrouble(bool wake = true)
    {
        _databaseTrouble = true;
        if (wake)
        {
            Poke();
        }
    }

    /// <summary>True once after <see cref="DatabaseTrouble"/>; the caller rings again (or calls it again).</summary>
    public bool TakeDatabaseTrouble()
    {
        var was = _databaseTrouble;
        _databaseTrouble = false;
        return was;
    }
}
