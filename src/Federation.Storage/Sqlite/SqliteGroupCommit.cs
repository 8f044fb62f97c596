using Microsoft.Data.Sqlite;

namespace Federation.Storage;

/// <summary>
/// SQLite's writes: one writer at a time, in this process (queueing writers here avoids
/// SQLITE_BUSY retries), committed in groups (<see cref="GroupCommit"/>). A group that
/// fails to commit (disk full, I/O error) fails every write in it.
/// </summary>
internal sealed class SqliteGroupCommit(Func<SqliteConnection> open, Action<SqlStoreTransaction> committed) : GroupCommit(MaxGroup)
{
    /// <summary>Most writes committed together: bounds how long the first of them waits for the last.</summary>
    public const int MaxGroup = 512;

    // SQLite has one writer: a group commits before the next may start, and nothing is left to do after.
    private static readonly Task<Func<Task>?> Done = Task.FromResult<Func<Task>?>(null);

    private protected override Task<Func<Task>?> RunAsync(List<PendingWrite> group)
    {
        List<PendingWrite> ran;
        try
        {
            using var c = open();
            using var tx = c.BeginTransaction();
            using var store = new SqlStoreTransaction(c, tx, SqliteDialect.Instance);
            ran = RunEach(group, store, runAgain: (_, _) => false);
            if (ran.Count == 0)
            {
                return Done; // nothing to keep: the transaction rolls back on dispose
            }
            tx.Commit();
            committed(store);
        }
        catch (Exception ex)
        {
            FailAll(group, ex);
            return Done;
        }
        foreach (var write in ran)
        {
            write.Succeed();
        }
        return Done;
    }
}
