namespace Federation.Core.Delivery;

/// <summary>
/// Wakes the dispatcher when a commit adds outbox rows, so delivery starts at once
/// instead of at the next poll. Losing a poke loses nothing: the poll finds the rows.
/// </summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _poked = new(0, 1);
    private long _pokes;

    /// <summary>
    /// How many pokes there have been: a delivery run that saw no poke while it ran has no
    /// rows to point the dispatcher at when it ends (see PeerDelivery.RunOnceAsync).
    /// </summary>
    public long Pokes => Interlocked.Read(ref _pokes);

    public void Poke()
    {
        // Counted before the wake-up, so a run that reads the count after its last write
        // either sees this poke or finishes before the pass that this poke wakes.
        Interlocked.Increment(ref _pokes);
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

    // Peers this process is delivering to, and whether a doorbell for one came while it was.
    private readonly Dictionary<string, bool> _running = new();
    private readonly Lock _runs = new();
    private volatile bool _databaseTrouble;

    /// <summary>
    /// Claims the in-process run for <paramref name="peerId"/>; false if one is under way.
    /// The lease in the database keeps replicas apart, but its owner is the process, so it
    /// cannot keep two runs of one process apart: this does. A doorbell turned away here is
    /// not lost: the run under way goes round once more (<see cref="TryEndRun"/>). Without
    /// that, a ring noted in the database just after the run's last write would have nobody
    /// to answer it, and the peer would wait out the ring timeout.
    /// </summary>
    public bool TryBeginRun(string peerId)
    {
        lock (_runs)
        {
            if (_running.ContainsKey(peerId))
            {
                _running[peerId] = true;
                return false;
            }
            _running[peerId] = false;
            return true;
        }
    }

    /// <summary>Ends the run, unless a doorbell was turned away meanwhile: then false, and the run goes round again.</summary>
    public bool TryEndRun(string peerId)
    {
        lock (_runs)
        {
            if (_running.TryGetValue(peerId, out var rungMeanwhile) && rungMeanwhile)
            {
                _running[peerId] = false;
                return false;
            }
            _running.Remove(peerId);
            return true;
        }
    }

    /// <summary>Ends the run whatever came meanwhile (the run failed or the node is stopping).</summary>
    public void EndRun(string peerId)
    {
        lock (_runs)
        {
            _running.Remove(peerId);
        }
    }

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
