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
}
