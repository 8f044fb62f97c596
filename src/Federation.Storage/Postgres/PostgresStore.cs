using Federation.Contracts.V1;
using Federation.Core.Storage;
using Npgsql;

namespace Federation.Storage;

/// <summary>
/// The scaled store: one PostgreSQL database that several replicas of this node share.
/// Unlike <see cref="SqliteStore"/>, writes from many processes run at once; the
/// transactions lock what they read-modify-write (see <see cref="PostgresStoreTransaction"/>),
/// and a write that loses a race (a deadlock, or a unique key another replica took
/// first) is rolled back and run again, and then sees what the winner committed.
/// </summary>
public sealed partial class PostgresStore : IFederationStore
{
    // SQLSTATEs worth running the work again for: serialization_failure, deadlock_detected,
    // unique_violation (two replicas stored the same first event, submission or row).
    private static readonly HashSet<string> Retryable = [PostgresErrorCodes.SerializationFailure, PostgresErrorCodes.DeadlockDetected, PostgresErrorCodes.UniqueViolation];
    private const int MaxAttempts = 10;

    private readonly NpgsqlDataSource _source;
    private readonly EnvelopeCache _envelopes = new();

    public PostgresStore(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("Node:Database is 'postgres' but Node:Postgres:ConnectionString is empty (environment: Node__Postgres__ConnectionString).");
        }
        _source = NpgsqlDataSource.Create(connectionString);
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        Description = $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
        using var c = Open();
        PostgresSchema.Migrate(c);
    }

    public string Description { get; }

    internal NpgsqlConnection Open() => _source.OpenConnection();

    public async Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await using var c = await _source.OpenConnectionAsync(ct);
                await using var tx = await c.BeginTransactionAsync(ct);
                var result = work(new PostgresStoreTransaction(c, tx));
                await tx.CommitAsync(ct);
                return result;
            }
            catch (PostgresException ex) when (Retryable.Contains(ex.SqlState) && attempt < MaxAttempts)
            {
                // Jitter, so two replicas that collided do not collide again in step.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), ct);
            }
        }
    }

    // ---- Reads ---------------------------------------------------------------------

    public StoredObject? GetObject(string objectId)
    {
        using var c = Open();
        return new PostgresStoreTransaction(c, null).GetObject(objectId);
    }

    public IReadOnlyList<StoredObject> ListObjects(ObjectKind kind)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT object_id, kind, origin, last_seq, state FROM objects WHERE kind = @k ORDER BY updated_at DESC";
        cmd.Parameters.AddWithValue("@k", (int)kind);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredObject>();
        while (r.Read())
        {
            list.Add(PostgresStoreTransaction.ReadObject(r));
        }
        return list;
    }

    public IReadOnlyList<StoredEvent> LoadEvents(string objectId, ulong afterSequence, int limit)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT object_id, kind, seq, event_id, payload, signature FROM events WHERE object_id = @o AND seq > @s ORDER BY seq LIMIT @l";
        cmd.Parameters.AddWithValue("@o", objectId);
        cmd.Parameters.AddWithValue("@s", (long)afterSequence);
        cmd.Parameters.AddWithValue("@l", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredEvent>();
        while (r.Read())
        {
            list.Add(new StoredEvent(r.GetString(0), (ObjectKind)r.GetInt32(1), (ulong)r.GetInt64(2), r.GetString(3), (byte[])r[4], (byte[])r[5]));
        }
        return list;
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
              AND COALESCE(d.next_attempt_at, 0) <= @now
              AND COALESCE(d.lease_until, 0) <= @now
              AND COALESCE(d.rung_until, 0) <= @now
            GROUP BY o.peer_id
            """;
        cmd.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
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
            GROUP BY p.node_id, d.delivered_id, d.attempts, d.failing_since, d.last_error, d.next_attempt_at, d.last_delivered_at
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
        cmd.CommandText = "SELECT id, peer_id, kind, object_id, seq, status, error, parked_at FROM dead_letters WHERE @p::text IS NULL OR peer_id = @p ORDER BY id";
        cmd.Parameters.AddWithValue("@p", (object?)peerId ?? DBNull.Value);
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
            WHERE o.kind = 2 AND o.object_id = @o
              AND o.id > COALESCE((SELECT delivered_id FROM peer_delivery WHERE peer_id = o.peer_id), 0)
            """;
        cmd.Parameters.AddWithValue("@o", objectId);
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
    /// Vacuums the tables a purge deletes from, so the deleted rows are no longer kept as
    /// dead row versions. Unlike SQLite's secure_delete, PostgreSQL does not overwrite the
    /// freed space; encrypt the database's disk if purged content must be unrecoverable.
    /// </summary>
    public Task CheckpointAsync()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "VACUUM events, objects, local_details, fight_reports, held_events";
        cmd.ExecuteNonQuery();
        return Task.CompletedTask;
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
            WHERE origin = @g AND last_seq > 0 AND object_id > @a ORDER BY object_id LIMIT @l
            """;
        cmd.Parameters.AddWithValue("@g", origin);
        cmd.Parameters.AddWithValue("@a", afterObjectId);
        cmd.Parameters.AddWithValue("@l", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredObject>();
        while (r.Read())
        {
            list.Add(PostgresStoreTransaction.ReadObject(r));
        }
        return list;
    }

    private static DateTimeOffset? Time(NpgsqlDataReader r, int i) =>
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

    // ---- Call-outs ---------------------------------------------------------------

    public IReadOnlyList<PeerRegion> PeerRegions()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT node_id, region FROM peers";
        using var r = cmd.ExecuteReader();
        var list = new List<PeerRegion>();
        while (r.Read())
        {
            list.Add(new PeerRegion(r.GetString(0), r.GetString(1)));
        }
        return list;
    }

    /// <summary>Call-out events stored after <paramref name="afterPosition"/>, oldest first.</summary>
    public IReadOnlyList<FeedEntry> ReadFeed(long afterPosition, int limit)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT f.position, f.object_id, f.seq, e.payload FROM callout_feed f
            JOIN events e ON e.object_id = f.object_id AND e.seq = f.seq
            WHERE f.position > @p ORDER BY f.position LIMIT @l
            """;
        cmd.Parameters.AddWithValue("@p", afterPosition);
        cmd.Parameters.AddWithValue("@l", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<FeedEntry>();
        while (r.Read())
        {
            list.Add(new FeedEntry(r.GetInt64(0), r.GetString(1), (ulong)r.GetInt64(2), (byte[])r[3]));
        }
        return list;
    }

    public long FeedEnd()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(position), 0) FROM callout_feed";
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>How far the named feed reader has got.</summary>
    public long FeedCursor(string name)
    {
        using var c = Open();
        return new PostgresStoreTransaction(c, null).FeedCursor(name);
    }

    public IReadOnlyList<ChannelRecord> ListChannels()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, kind, target, secret, active, created_at FROM notification_channels ORDER BY created_at";
        using var r = cmd.ExecuteReader();
        var list = new List<ChannelRecord>();
        while (r.Read())
        {
            list.Add(new ChannelRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                r.GetInt32(4) != 0, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5))));
        }
        return list;
    }

    /// <summary>
    /// Pending deliveries whose time has come, oldest first, to active channels. A channel
    /// whose older delivery is waiting for a retry gets nothing newer meanwhile, so a
    /// receiver sees items in order once it recovers.
    /// </summary>
    public IReadOnlyList<DeliveryRecord> DueDeliveries(DateTimeOffset now, int limit) =>
        QueryDeliveries("""
            WHERE d.state = 'pending' AND d.next_attempt_at <= @now
              AND d.channel_id IN (SELECT id FROM notification_channels WHERE active = 1)
              AND NOT EXISTS (SELECT 1 FROM notification_deliveries o
                              WHERE o.channel_id = d.channel_id AND o.state = 'pending' AND o.id < d.id AND o.next_attempt_at > @now)
            ORDER BY d.id LIMIT @l
            """, ("@now", now.ToUnixTimeMilliseconds()), ("@l", limit));

    public IReadOnlyList<DeliveryRecord> ListDeliveries(string? channelId, int limit) => channelId is null
        ? QueryDeliveries("ORDER BY d.id DESC LIMIT @l", ("@l", limit))
        : QueryDeliveries("WHERE d.channel_id = @c ORDER BY d.id DESC LIMIT @l", ("@c", channelId), ("@l", limit));

    private List<DeliveryRecord> QueryDeliveries(string where, params (string Name, object Value)[] args)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT d.id, d.channel_id, d.cursor, d.object_id, d.change, d.body, d.state, d.attempts,
                   d.next_attempt_at, d.last_error, d.created_at, d.delivered_at
            FROM notification_deliveries d
            """ + "\n" + where;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        using var r = cmd.ExecuteReader();
        var list = new List<DeliveryRecord>();
        while (r.Read())
        {
            list.Add(new DeliveryRecord(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetInt32(4), (byte[])r[5],
                r.GetString(6), r.GetInt32(7), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8)),
                r.IsDBNull(9) ? null : r.GetString(9), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)),
                r.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11))));
        }
        return list;
    }
    public void Dispose() => _source.Dispose();
}
