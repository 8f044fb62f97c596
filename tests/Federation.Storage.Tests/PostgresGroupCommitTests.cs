using Federation.Core.Storage;
using Npgsql;

namespace Federation.Storage.Tests;

/// <summary>
/// What PostgreSQL's group commit adds to the store contract: a write rolled back to its
/// savepoint gives back the locks it took, and the store must not think it still holds them.
/// </summary>
public sealed class PostgresGroupCommitTests : IDisposable
{
    private readonly PostgresDatabase _db = new();

    public PostgresGroupCommitTests()
    {
        using var migrated = _db.Open();
    }

    [Fact]
    public void A_write_rolled_back_to_its_savepoint_gives_back_its_outbox_lock_and_the_next_write_to_that_peer_takes_it_again()
    {
        var peer = new string('b', 32);
        using var c = new NpgsqlConnection(_db.ConnectionString);
        c.Open();
        using var tx = c.BeginTransaction();
        using var store = new SqlStoreTransaction(c, tx, PostgresDialect.Instance);

        // A write whose statements reached the server, then was rolled back.
        store.Save();
        store.Enqueue(peer, OutboxKind.Event, "o1", 1, null);
        store.Flush();
        Assert.Equal(1, AdvisoryLocksHeld(c, tx));
        store.RollBackToSave();
        store.Flush();
        Assert.Equal(0, AdvisoryLocksHeld(c, tx));

        // A write rolled back before anything of it was sent: its statements never run.
        store.Save();
        store.Enqueue(peer, OutboxKind.Event, "o2", 1, null);
        store.RollBackToSave();
        store.Flush();
        Assert.Equal(0, AdvisoryLocksHeld(c, tx));

        // Without the lock, this write's outbox row could become visible after a later id
        // another replica committed, and the peer's cursor would skip it.
        store.Save();
        store.Enqueue(peer, OutboxKind.Event, "o3", 1, null);
        store.Release();
        store.Flush();
        Assert.Equal(1, AdvisoryLocksHeld(c, tx));
        Assert.Equal(["o3"], OutboxObjects(c, tx));
    }

    private static List<string> OutboxObjects(NpgsqlConnection c, NpgsqlTransaction tx)
    {
        using var cmd = new NpgsqlCommand("SELECT object_id FROM outbox ORDER BY id", c, tx);
        using var r = cmd.ExecuteReader();
        var ids = new List<string>();
        while (r.Read())
        {
            ids.Add(r.GetString(0));
        }
        return ids;
    }

    private static long AdvisoryLocksHeld(NpgsqlConnection c, NpgsqlTransaction tx)
    {
        using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted", c, tx);
        return (long)cmd.ExecuteScalar()!;
    }

    public void Dispose() => _db.Dispose();
}
