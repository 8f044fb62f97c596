using Npgsql;

namespace Federation.Storage;

/// <summary>
/// PostgreSQL's writes: committed in groups in each process (<see cref="GroupCommit"/>),
/// while the other replicas write at once. The transactions lock what they
/// read-modify-write (see <see cref="PostgresDialect"/>), and a write that loses a race to
/// another replica (a deadlock, or a unique key it took first) is rolled back to its
/// savepoint and, once its group has committed, run again alone in a transaction of its own,
/// where it sees what the winner committed. A group whose commit loses such a race runs each
/// of its writes again alone.
/// <para>
/// Why groups (adr/0031): every transaction that stores an event takes the feed's ordering
/// lock at its commit and holds it through the flush of the write-ahead log, so commits
/// queue one behind another, one flush each. A group pays one flush for all its writes, and
/// while it waits for that flush the next group runs its statements: transactions of
/// different groups overlap only there, where the committing one waits for nothing the
/// running one holds, so they cannot deadlock each other.
/// </para>
/// </summary>
internal sealed class PostgresGroupCommit(NpgsqlDataSource source, Action<SqlStoreTransaction> committed) : GroupCommit(MaxGroup)
{
    // SQLSTATEs worth running the work again for: serialization_failure, deadlock_detected,
    // unique_violation (two replicas stored the same first event, submission or row).
    private static readonly HashSet<string> Retryable = [PostgresErrorCodes.SerializationFailure, PostgresErrorCodes.DeadlockDetected, PostgresErrorCodes.UniqueViolation];
    private const int MaxAttempts = 10;

    /// <summary>
    /// Most writes committed together. Each statement is a round trip to the server, so a
    /// group takes longer to run than SQLite's: this bounds how long the first write waits.
    /// </summary>
    public const int MaxGroup = 64;

    private static bool LostRace(Exception ex) => ex is PostgresException pg && Retryable.Contains(pg.SqlState);

    private protected override async Task<Func<Task>?> RunAsync(List<PendingWrite> group)
    {
        var again = new List<PendingWrite>();
        NpgsqlConnection? c = null;
        NpgsqlTransaction? tx = null;
        SqlStoreTransaction? store = null;
        List<PendingWrite> ran;
        try
        {
            c = await source.OpenConnectionAsync();
            tx = await c.BeginTransactionAsync();
            store = new SqlStoreTransaction(c, tx, PostgresDialect.Instance);
            ran = RunEach(group, store, (write, ex) =>
            {
                if (!LostRace(ex))
                {
                    return false;
                }
                again.Add(write);
                return true;
            });
        }
        catch (Exception ex)
        {
            await DisposeAsync(c, tx, store);
            FailAll(group, ex);
            return null;
        }
        // The commit waits for the write-ahead log's flush; the next group runs its writes
        // meanwhile. It waits for any row this group locked, and sees it once this commits.
        return async () =>
        {
            try
            {
                if (ran.Count > 0)
                {
                    store!.Flush(); // a failed last write's rollback to its savepoint
                    await tx!.CommitAsync();
                    committed(store!);
                }
            }
            catch (Exception ex) when (LostRace(ex))
            {
                again = group.Where(w => !w.IsCompleted).ToList();
                ran = [];
            }
            catch (Exception ex)
            {
                FailAll(group, ex);
                return;
            }
            finally
            {
                await DisposeAsync(c, tx, store);
            }
            foreach (var write in ran)
            {
                write.Succeed();
            }
            if (again.Count > 0)
            {
                await AloneAsync(async () =>
                {
                    foreach (var write in again)
                    {
                        await RunAloneAsync(write);
                    }
                });
            }
        };
    }

    private static async Task DisposeAsync(NpgsqlConnection? c, NpgsqlTransaction? tx, SqlStoreTransaction? store)
    {
        store?.Dispose();
        if (tx is not null)
        {
            await tx.DisposeAsync();
        }
        if (c is not null)
        {
            await c.DisposeAsync();
        }
    }

    /// <summary>One write in a transaction of its own, run again (after a short random pause) while it loses races.</summary>
    private async Task RunAloneAsync(PendingWrite write)
    {
        for (var attempt = 1; ; attempt++)
        {
            Exception failed;
            try
            {
                await using var c = await source.OpenConnectionAsync();
                await using var tx = await c.BeginTransactionAsync();
                using var store = new SqlStoreTransaction(c, tx, PostgresDialect.Instance);
                if ((write.Run(store) ?? Flushed(store)) is not { } ex)
                {
                    await tx.CommitAsync();
                    committed(store);
                    write.Succeed();
                    return;
                }
                failed = ex;
            }
            catch (Exception ex)
            {
                failed = ex; // the commit, or the server
            }
            if (!LostRace(failed) || attempt == MaxAttempts)
            {
                write.Fail(failed);
                return;
            }
            // Jitter, so two replicas that collided do not collide again in step.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)));
        }
    }
}
