using Federation.Core.Storage;
using Npgsql;

namespace Federation.Storage;

/// <summary>
/// PostgreSQL's writes: many at once, from every replica. The transactions lock what they
/// read-modify-write (see <see cref="PostgresDialect"/>), and a write that loses a race (a
/// deadlock, or a unique key another replica took first) is rolled back and run again, and
/// then sees what the winner committed.
/// <para>
/// A write's statements run synchronously (<see cref="IStoreTransaction"/> is synchronous),
/// each holding a thread-pool thread while it waits for PostgreSQL: for a row or advisory
/// lock another writer holds, or for the server's turn on busy cores. At most
/// <see cref="MaxWriters"/> run at once in this process; the rest wait for a turn without
/// holding a thread. Unbounded, 128 concurrent submissions starved the thread pool and drained
/// Npgsql's pool, and new connections timed out (issue 20 #5).
/// </para>
/// </summary>
internal sealed class PostgresWriteRetry(NpgsqlDataSource source, Action<SqlStoreTransaction> committed)
{
    // SQLSTATEs worth running the work again for: serialization_failure, deadlock_detected,
    // unique_violation (two replicas stored the same first event, submission or row).
    private static readonly HashSet<string> Retryable = [PostgresErrorCodes.SerializationFailure, PostgresErrorCodes.DeadlockDetected, PostgresErrorCodes.UniqueViolation];
    private const int MaxAttempts = 10;

    /// <summary>Write transactions this process runs at once: enough to keep PostgreSQL busy while some wait on locks.</summary>
    public const int MaxWriters = 8;

    private readonly SemaphoreSlim _turns = new(MaxWriters, MaxWriters);

    public async Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct)
    {
        await _turns.WaitAsync(ct);
        try
        {
            return await WriteInTurnAsync(work, ct);
        }
        finally
        {
            _turns.Release();
        }
    }

    private async Task<T> WriteInTurnAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await using var c = await source.OpenConnectionAsync(ct);
                await using var tx = await c.BeginTransactionAsync(ct);
                var store = new SqlStoreTransaction(c, tx, PostgresDialect.Instance);
                T result;
                using (store)
                {
                    result = work(store);
                }
                await tx.CommitAsync(ct);
                committed(store);
                return result;
            }
            catch (PostgresException ex) when (Retryable.Contains(ex.SqlState) && attempt < MaxAttempts)
            {
                // Jitter, so two replicas that collided do not collide again in step.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), ct);
            }
        }
    }
}
