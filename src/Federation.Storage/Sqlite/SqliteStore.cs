using System.Collections.Concurrent;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Federation.Storage;

/// <summary>
/// The embedded store: one SQLite file in the data folder, for a node that runs as one
/// process. Writes take turns in this process (SQLite has one writer).
/// </summary>
public sealed partial class SqliteStore : IFederationStore
{
    private readonly string _connectionString;
    // SQLite has one writer; queueing writers here avoids SQLITE_BUSY retries.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    // Underlying connections that already have this node's settings (see Open); weak, so a
    // connection the pool closes is forgotten with it.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _configured = new();
    // Writes waiting for the next group commit (see WriteAsync).
    private readonly ConcurrentQueue<PendingWrite> _pending = new();
    private readonly EnvelopeCache _envelopes = new();

    /// <summary>Most writes committed together: bounds how long the first of them waits for the last.</summary>
    public const int MaxGroup = 512;

    public SqliteStore(IOptions<NodeOptions> options)
        : this(options.Value)
    {
    }

    public SqliteStore(NodeOptions options)
    {
        var dir = options.ResolvedDataDir;
        Directory.CreateDirectory(dir);
        Path = System.IO.Path.Combine(dir, "node.db");
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Pooling = true }.ToString();
        using var c = Open();
        SqliteSchema.Migrate(c);
    }

    public string Path { get; }

    public string Description => System.IO.Path.GetFullPath(Path);

    internal SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        // These settings belong to the underlying SQLite connection, which the pool keeps
        // open and hands out again: set them once per real connection, not on every Open
        // (every read opens one, so that was three statements per read).
        if (_configured.TryAdd(c.Handle!, true))
        {
            using var cmd = c.CreateCommand();
            // FULL: a commit is on disk before we acknowledge it to anyone. secure_delete:
            // deleted (purged) content is overwritten, not left in free pages for a subpoena.
            cmd.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA secure_delete=ON;";
            cmd.ExecuteNonQuery();
        }
        return c;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and returns once that transaction
    /// has committed (synchronous=FULL: it is on disk).
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
    public async Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct = default)
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
            using var c = Open();
            using var tx = c.BeginTransaction();
            var store = new SqliteStoreTransaction(c, tx);
            using var statements = new Finally(store.ReleaseStatements);
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

    private readonly struct Finally(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>A write waiting for a group commit.</summary>
    private abstract class PendingWrite
    {
        private int _state; // 0 queued, 1 taken by a group, 2 cancelled by its caller

        public bool TryTake() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

        public bool TryCancel() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;

        /// <summary>Runs the work; false (with the caller's exception set) if it threw.</summary>
        public abstract bool Run(SqliteStoreTransaction tx);

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

        public override bool Run(SqliteStoreTransaction tx)
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

    // ---- Reads ---------------------------------------------------------------------

    public StoredObject? GetObject(string objectId)
    {
        using var c = Open();
        return new SqliteStoreTransaction(c, null).GetObject(objectId);
    }

    public IReadOnlyList<StoredObject> ListObjects(ObjectKind kind)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT object_id, kind, origin, last_seq, state FROM objects WHERE kind = $k ORDER BY updated_at DESC";
        cmd.Parameters.AddWithValue("$k", (int)kind);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredObject>();
        while (r.Read())
        {
            list.Add(SqliteStoreTransaction.ReadObject(r));
        }
        return list;
    }

    public IReadOnlyList<StoredEvent> LoadEvents(string objectId, ulong afterSequence, int limit)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT object_id, kind, seq, event_id, payload, signature FROM events WHERE object_id = $o AND seq > $s ORDER BY seq LIMIT $l";
        cmd.Parameters.AddWithValue("$o", objectId);
        cmd.Parameters.AddWithValue("$s", (long)afterSequence);
        cmd.Parameters.AddWithValue("$l", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredEvent>();
        while (r.Read())
        {
            list.Add(new StoredEvent(r.GetString(0), (ObjectKind)r.GetInt32(1), (ulong)r.GetInt64(2), r.GetString(3), (byte[])r[4], (byte[])r[5]));
        }
        return list;
    }

    /// <summary>One peer by its key: every peer call and every delivery asks, so it reads one row, not the table.</summary>
    public PeerRecord? GetPeer(string nodeId)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT node_id, name, address, public_key, state, added_at FROM peers WHERE node_id = $n";
        cmd.Parameters.AddWithValue("$n", nodeId);
        using var r = cmd.ExecuteReader();
        return r.Read() ? new PeerRecord(r.GetString(0), r.GetString(1), r.GetString(2), (byte[])r[3], r.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5))) : null;
    }

    public IReadOnlyList<PeerRecord> ListPeers()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT node_id, name, address, public_key, state, added_at FROM peers ORDER BY added_at";
        using var r = cmd.ExecuteReader();
        var list = new List<PeerRecord>();
        while (r.Read())
        {
            list.Add(new PeerRecord(r.GetString(0), r.GetString(1), r.GetString(2), (byte[])r[3], r.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5))));
        }
        return list;
    }

    /// <summary>Objects with events held behind a gap: they need a backfill from their origin.</summary>
    public IReadOnlyList<string> ObjectsWithHeldEvents()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT object_id FROM held_events";
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(0));
        }
        return list;
    }

    /// <summary>
    /// Peers with undelivered outbox rows whose retry time has come, that no one holds a
    /// lease on, and that have no doorbell out already.
    /// </summary>
    public IReadOnlyList<string> DuePeers(DateTimeOffset now)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT o.peer_id FROM outbox o
            LEFT JOIN peer_delivery d ON d.peer_id = o.peer_id
            LEFT JOIN peers p ON p.node_id = o.peer_id
            WHERE o.id > COALESCE(d.delivered_id, 0)
              AND COALESCE(p.state, 'pending') IN ('pending', 'active')
              AND COALESCE(d.next_attempt_at, 0) <= $now
              AND COALESCE(d.lease_until, 0) <= $now
              AND COALESCE(d.rung_until, 0) <= $now
            GROUP BY o.peer_id
            """;
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(0));
        }
        return list;
    }

    /// <summary>The next items for a peer after its cursor, oldest first; event bodies are read from the log.</summary>
    public IReadOnlyList<OutboxItem> LoadBatch(string peerId, int limit)
    {
        using var c = Open();
        return SharedQueries.LoadBatch(c, _envelopes, peerId, limit);
    }

    public IReadOnlyList<PeerDeliveryState> DeliveryStates()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT p.node_id, COALESCE(d.delivered_id, 0), COUNT(o.id), MIN(o.created_at),
                   COALESCE(d.attempts, 0), d.failing_since, d.last_error, COALESCE(d.next_attempt_at, 0), d.last_delivered_at
            FROM peers p
            LEFT JOIN peer_delivery d ON d.peer_id = p.node_id
            LEFT JOIN outbox o ON o.peer_id = p.node_id AND o.id > COALESCE(d.delivered_id, 0)
            GROUP BY p.node_id
            """;
        using var r = cmd.ExecuteReader();
        var list = new List<PeerDeliveryState>();
        while (r.Read())
        {
            list.Add(new PeerDeliveryState(r.GetString(0), r.GetInt64(1), r.GetInt64(2), Time(r, 3), r.GetInt32(4), Time(r, 5),
                r.IsDBNull(6) ? null : r.GetString(6), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7)), Time(r, 8)));
        }
        return list;
    }

    public IReadOnlyList<PeerCatchUpState> CatchUpStates()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT peer_id, caught_up_at, failing_since, last_error FROM peer_catchup";
        using var r = cmd.ExecuteReader();
        var list = new List<PeerCatchUpState>();
        while (r.Read())
        {
            list.Add(new PeerCatchUpState(r.GetString(0), Time(r, 1), Time(r, 2), r.IsDBNull(3) ? null : r.GetString(3)));
        }
        return list;
    }

    /// <summary>Dead letters, oldest first; only <paramref name="peerId"/>'s when given.</summary>
    public IReadOnlyList<DeadLetter> ListDeadLetters(string? peerId = null)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, peer_id, kind, object_id, seq, status, error, parked_at FROM dead_letters WHERE $p IS NULL OR peer_id = $p ORDER BY id";
        cmd.Parameters.AddWithValue("$p", (object?)peerId ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        var list = new List<DeadLetter>();
        while (r.Read())
        {
            list.Add(new DeadLetter(r.GetInt64(0), r.GetString(1), (OutboxKind)r.GetInt32(2), r.GetString(3), (ulong)r.GetInt64(4),
                r.GetString(5), r.GetString(6), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7))));
        }
        return list;
    }

    /// <summary>Submissions for an object that this node has queued and its origin has not yet acknowledged.</summary>
    public long PendingSubmissions(string objectId)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT COUNT(*) FROM outbox o
            WHERE o.kind = 2 AND o.object_id = $o
              AND o.id > COALESCE((SELECT delivered_id FROM peer_delivery WHERE peer_id = o.peer_id), 0)
            """;
        cmd.Parameters.AddWithValue("$o", objectId);
        return (long)cmd.ExecuteScalar()!;
    }

    public IReadOnlyList<FightReport> ListReports(string fightId)
    {
        using var c = Open();
        return SharedQueries.ListReports(c, fightId);
    }

    public (TokenRecord Token, byte[] Hash)? FindToken(string id)
    {
        using var c = Open();
        return SharedQueries.FindToken(c, id);
    }

    public IReadOnlyList<TokenRecord> ListTokens()
    {
        using var c = Open();
        return SharedQueries.ListTokens(c);
    }

    public IReadOnlyList<AuditEntry> ListAudit(int limit)
    {
        using var c = Open();
        return SharedQueries.ListAudit(c, limit);
    }

    public byte[]? GetLocalDetails(string objectId)
    {
        using var c = Open();
        return SharedQueries.GetLocalDetails(c, objectId);
    }

    /// <summary>
    /// Copies the write-ahead log into the database and empties it, so old page images
    /// (which may hold purged content) do not linger in the -wal file.
    /// </summary>
    public async Task CheckpointAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            using var c = Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            cmd.ExecuteNonQuery();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public IReadOnlyDictionary<string, long> DeadLetterCounts()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT peer_id, COUNT(*) FROM dead_letters GROUP BY peer_id";
        using var r = cmd.ExecuteReader();
        var counts = new Dictionary<string, long>();
        while (r.Read())
        {
            counts[r.GetString(0)] = r.GetInt64(1);
        }
        return counts;
    }

    /// <summary>
    /// Objects <paramref name="origin"/> originates and has opened (drafts have no log),
    /// in object-id order after <paramref name="afterObjectId"/>: the pages of ListShared.
    /// </summary>
    public IReadOnlyList<StoredObject> OriginObjectsAfter(string origin, string afterObjectId, int limit)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT object_id, kind, origin, last_seq, state FROM objects
            WHERE origin = $g AND last_seq > 0 AND object_id > $a ORDER BY object_id LIMIT $l
            """;
        cmd.Parameters.AddWithValue("$g", origin);
        cmd.Parameters.AddWithValue("$a", afterObjectId);
        cmd.Parameters.AddWithValue("$l", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredObject>();
        while (r.Read())
        {
            list.Add(SqliteStoreTransaction.ReadObject(r));
        }
        return list;
    }

    private static DateTimeOffset? Time(SqliteDataReader r, int i) =>
        r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));

    /// <summary>Counts rows in a table; for tests and diagnostics.</summary>
    public long Count(string table)
    {
        if (!table.All(ch => char.IsAsciiLetterLower(ch) || ch == '_'))
        {
            throw new ArgumentException("Not a table name.", nameof(table));
        }
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)cmd.ExecuteScalar()!;
    }

    public void Dispose() => _writeLock.Dispose();
}
