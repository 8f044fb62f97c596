using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Storage.Tests;

/// <summary>What SQLite writes outside node.db and its write-ahead log: nothing, even for a large write.</summary>
public sealed class SqliteFilesTests : IDisposable
{
    private readonly SqliteDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task ALargeWriteInASavepointKeepsThePagesItChangesOutOfTemporaryFiles()
    {
        var store = (SqliteStore)_db.Open();
        var id = Identifiers.NewObjectId(new string('a', 32));
        await store.WriteAsync(tx =>
        {
            for (var seq = 1ul; seq <= Events; seq++)
            {
                tx.InsertEvent(new StoredEvent(id, ObjectKind.Fight, seq, Guid.NewGuid().ToString(), [1, 2, 3], [9, 9]));
            }
            return true;
        });

        // Each write of a group commit runs in a savepoint of its own (GroupCommit), on a
        // connection the store opened. Inside a savepoint SQLite keeps each page a statement
        // changes, as it was, in a statement journal, and past 64 KiB spills it to an unlinked
        // file in the temporary directory (named etilqs_…) unless told to keep it in memory.
        // Purging the events changes every page that holds them.
        using var c = store.Open();
        using var tx = c.BeginTransaction();
        Execute("SAVEPOINT w");
        Assert.Equal(Events, Execute($"DELETE FROM events WHERE object_id = '{id}'"));
        var open = TemporaryFilesOpen();
        Execute("RELEASE SAVEPOINT w");
        tx.Commit();

        Assert.True(open.Count == 0, "open while the write ran: " + string.Join(", ", open));
        Assert.Empty(store.LoadEvents(id, 0, 10));

        int Execute(string sql)
        {
            using var cmd = c.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = sql;
            return cmd.ExecuteNonQuery();
        }
    }

    private const int Events = 3_000;

    private static List<string> TemporaryFilesOpen() =>
        Directory.GetFiles("/proc/self/fd")
            .Select(fd => new FileInfo(fd).LinkTarget ?? "")
            .Where(target => target.Contains("etilqs_", StringComparison.Ordinal))
            .ToList();
}
