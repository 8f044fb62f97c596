using System.Collections.Concurrent;
using Federation.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Federation.Storage;

/// <summary>
/// SQLite's writes: one writer at a time, in this process (queueing writers here avoids
/// SQLITE_BUSY retries), and writes that queue up committed together.
/// <para>
/// Group commit: with synchronous=FULL every commit waits for the disk, so one commit per
/// write caps a node at a few hundred writes a second however many callers wait. Writes
/// that queue up while a commit is under way are therefore run one after another in the
/// next transaction, each inside its own savepoint, and committed together: one disk
/// wait for the whole group. Each write still sees the writes before it, in order, as if
/// it ran alone; a write that throws is rolled back to its savepoint, alone, and its
/// caller gets the exception while the others commit. No caller hears of success before
/// its write is committed; if the commit fails, every write in the group fails.
/// </para>
/// </summary>
internal sealed class SqliteGroupCommit(Func<SqliteConnection> open, Action<SqlStoreTransaction> committed) : IDisposable
{
    /// <summary>Most writes committed together: bounds how long the first of them waits for the last.</summary>
    public const int MaxGroup = 512;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    // Writes waiting for the next group commit.
    private readonly ConcurrentQueue<PendingWrite> _pending = new();

    /// <summary>Runs <paramref name="work"/> in a write transaction and returns once that transaction has committed.</summary>
    public async Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var write = new PendingWrite<T>(work);
        _pending.Enqueue(write);
        while (!write.Task.IsCompleted)
        {
            try
            {
                await _writeLock.WaitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                if (write.TryCancel())
                {
                    throw; // never ran, never will
                }
                break; // a group has taken it: its outcome is decided, so wait for it
            }
            try
            {
                // Whoever holds the lock commits for everyone queued, its own write included.
                while (!write.Task.IsCompleted && CommitGroup())
                {
                }
            }
            finally
            {
                _writeLock.Release();
            }
        }
        return await write.Task;
    }

    /// <summary>Runs <paramref name="action"/> while no write is under way.</summary>
    public async Task AloneAsync(Action action)
    {
        await _writeLock.WaitAsync();
        try
        {
            action();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Commits the writes queued now (up to <see cref="MaxGroup"/>) in one transaction; false if none was queued.</summary>
    private bool CommitGroup()
    {
        var group = new List<PendingWrite>();
        while (group.Count < MaxGroup && _pending.TryDequeue(out var next))
        {
            if (next.TryTake())
            {
                group.Add(next);
            }
        }
        if (group.Count == 0)
        {
            return false;
        }
        var ran = new List<PendingWrite>(group.Count);
        try
        {
            using var c = open();
            using var tx = c.BeginTransaction();
            using var store = new SqlStoreTransaction(c, tx, SqliteDialect.Instance);
            foreach (var write in group)
            {
                if (group.Count == 1)
                {
                    // Alone: the transaction itself is the savepoint.
                    if (write.Run(store))
                    {
                        ran.Add(write);
                    }
                    else
                    {
                        return true; // its exception is set; the transaction rolls back on dispose
                    }
                    continue;
                }
                tx.Save("w");
                if (write.Run(store))
                {
                    tx.Release("w");
                    ran.Add(write);
                }
                else
                {
                    tx.Rollback("w");
                    tx.Release("w");
                }
            }
            tx.Commit();
            committed(store);
        }
        catch (Exception ex)
        {
            // The transaction itself failed (disk full, I/O error): nothing in it committed.
            foreach (var write in group)
            {
                write.Fail(ex);
            }
            return true;
        }
        foreach (var write in ran)
        {
            write.Succeed();
        }
        return true;
    }

    public void Dispose() => _writeLock.Dispose();

    /// <summary>A write waiting for a group commit.</summary>
    private abstract class PendingWrite
    {
        private int _state; // 0 queued, 1 taken by a group, 2 cancelled by its caller

        public bool TryTake() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

        public bool TryCancel() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;

        /// <summary>Runs the work; false (with the caller's exception set) if it threw.</summary>
        public abstract bool Run(IStoreTransaction tx);

        /// <summary>Its group committed.</summary>
        public abstract void Succeed();

        /// <summary>Its group did not commit: a write that ran is failed too.</summary>
        public abstract void Fail(Exception ex);
    }

    private sealed class PendingWrite<T>(Func<IStoreTransaction, T> work) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _done.Task;

        public override bool Run(IStoreTransaction tx)
        {
            try
            {
                _result = work(tx);
                return true;
            }
            catch (Exception ex)
            {
                _done.TrySetException(ex);
                return false;
            }
        }

        public override void Succeed() => _done.TrySetResult(_result);

        public override void Fail(Exception ex) => _done.TrySetException(ex);
    }
}
