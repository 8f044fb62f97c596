using System.Collections.Concurrent;
using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>
/// One writer at a time in this process, and writes that queue up committed together, on
/// either engine (adr/0011, adr/0031).
/// <para>
/// Every commit waits for the disk (SQLite's synchronous=FULL, PostgreSQL's write-ahead log
/// flush), so one commit per write caps a node at a few hundred writes a second however
/// many callers wait. Writes that queue up while a commit is under way are therefore run
/// one after another in the next transaction, each inside its own savepoint, and committed
/// together: one disk wait for the whole group. Each write still sees the writes before it,
/// in order, as if it ran alone; a write that throws is rolled back to its savepoint, alone,
/// and its caller gets the exception while the others commit. No caller hears of success
/// before its write is committed; if the commit fails, every write in the group fails
/// (unless the engine runs them again, see <see cref="PostgresGroupCommit"/>).
/// </para>
/// <para>
/// One group runs its writes at a time: two groups of one process running at once would
/// take row and outbox locks in different orders and deadlock each other.
/// </para>
/// </summary>
internal abstract class GroupCommit(int maxGroup) : IDisposable
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    // Writes waiting for the next group commit.
    private readonly ConcurrentQueue<PendingWrite> _pending = new();

    /// <summary>Runs <paramref name="work"/> in a write transaction and returns once that transaction has committed.</summary>
    public async Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var write = new PendingWrite<T>(work);
        _pending.Enqueue(write);
        while (!write.IsTaken)
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
            Func<Task>? rest = null;
            try
            {
                // Whoever holds the lock runs the next group for everyone queued, its own
                // write among them unless more are queued before it than a group holds. A
                // caller whose write another caller's group took while it waited runs none:
                // its write is done, or will be once that group commits, and running the next
                // group would keep it waiting for the commit of others' writes too. The
                // writes queued behind it have callers of their own waiting their turn.
                // (Running one anyway added a group's time to such writes: fan-out to 1,000
                // peers, a chain of writes for each peer, took 1.4 to 1.8 times as long.)
                if (!write.IsTaken)
                {
                    rest = await RunNextGroupAsync();
                }
            }
            finally
            {
                _writeLock.Release();
            }
            if (rest is not null)
            {
                await rest();
            }
        }
        return await write.Task;
    }

    /// <summary>Runs <paramref name="action"/> while no write is under way.</summary>
    public async Task AloneAsync(Action action) => await AloneAsync(() =>
    {
        action();
        return Task.CompletedTask;
    });

    /// <summary>Runs <paramref name="action"/> while no group runs its writes.</summary>
    private protected async Task AloneAsync(Func<Task> action)
    {
        await _writeLock.WaitAsync();
        try
        {
            await action();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs the writes queued now (up to the group's size) in one transaction; null if none was queued.</summary>
    private async Task<Func<Task>?> RunNextGroupAsync()
    {
        var group = new List<PendingWrite>();
        while (group.Count < maxGroup && _pending.TryDequeue(out var next))
        {
            if (next.TryTake())
            {
                group.Add(next);
            }
        }
        return group.Count == 0 ? null : await RunAsync(group);
    }

    /// <summary>
    /// Runs the group's writes in one transaction, while no other group runs, and completes
    /// each write (succeeded, failed, or run again). What it returns, if anything, is the rest
    /// of that work done after the next group may start: an engine whose transactions can
    /// overlap commits there, so one group waits for the disk while the next runs.
    /// </summary>
    private protected abstract Task<Func<Task>?> RunAsync(List<PendingWrite> group);

    /// <summary>
    /// Runs each write of <paramref name="group"/> in its own savepoint, in order, and returns
    /// those that ran. One that threw is rolled back alone and failed, or, when
    /// <paramref name="runAgain"/> says so (a race lost to another replica), left to run
    /// again. A group of one needs no savepoint: if it throws, nothing is to be committed.
    /// </summary>
    private protected static List<PendingWrite> RunEach(List<PendingWrite> group, SqlStoreTransaction store, Func<PendingWrite, Exception, bool> runAgain)
    {
        var ran = new List<PendingWrite>(group.Count);
        var alone = group.Count == 1;
        foreach (var write in group)
        {
            if (!alone)
            {
                store.Save();
            }
            // The statements it held back go now, so that what they break is its failure.
            if ((write.Run(store) ?? Flushed(store)) is not { } ex)
            {
                if (!alone && write != group[^1])
                {
                    store.Release(); // the last one's goes with the commit
                }
                ran.Add(write);
                continue;
            }
            if (!alone)
            {
                store.RollBackToSave();
            }
            if (!runAgain(write, ex))
            {
                write.Fail(ex);
            }
        }
        return ran;
    }

    /// <summary>The group's transaction itself failed (the disk, the server): nothing in it committed.</summary>
    private protected static void FailAll(List<PendingWrite> group, Exception ex)
    {
        foreach (var write in group)
        {
            write.Fail(ex);
        }
    }

    /// <summary>Sends the statements a write held back; what that threw, or null.</summary>
    private protected static Exception? Flushed(SqlStoreTransaction store)
    {
        try
        {
            store.Flush();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    public void Dispose() => _writeLock.Dispose();

    /// <summary>A write waiting for a group commit.</summary>
    private protected abstract class PendingWrite
    {
        private int _state; // 0 queued, 1 taken by a group, 2 cancelled by its caller

        public bool TryTake() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

        public bool TryCancel() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;

        /// <summary>A group has taken it: it will be completed without its caller's help.</summary>
        public bool IsTaken => Volatile.Read(ref _state) == 1;

        public abstract bool IsCompleted { get; }

        /// <summary>Runs the work; what it threw, or null.</summary>
        public abstract Exception? Run(IStoreTransaction tx);

        /// <summary>Its transaction committed.</summary>
        public abstract void Succeed();

        /// <summary>It failed, or its group did not commit: a write that ran is failed too.</summary>
        public abstract void Fail(Exception ex);
    }

    private sealed class PendingWrite<T>(Func<IStoreTransaction, T> work) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _done.Task;

        public override bool IsCompleted => _done.Task.IsCompleted;

        public override Exception? Run(IStoreTransaction tx)
        {
            try
            {
                _result = work(tx);
                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        }

        public override void Succeed() => _done.TrySetResult(_result);

        public override void Fail(Exception ex) => _done.TrySetException(ex);
    }
}
