using System.Data.Common;
using Federation.Contracts.V1;
using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>
/// The store's reads, written once for both engines. How a write runs is each engine's own
/// (<see cref="SqliteStore"/>: group commit; <see cref="PostgresStore"/>: locks and retries),
/// as is how the engine lets go of purged content (<see cref="CheckpointAsync"/>).
/// </summary>
public abstract partial class SqlStore : IFederationStore
{
    private readonly EnvelopeCache _envelopes = new();
    private readonly PeerRosterCache _roster;

    public void ForgetBuiltEnvelopes() => _envelopes.Clear();

    private protected SqlStore(SqlDialect dialect)
    {
        Dialect = dialect;
        _roster = new PeerRosterCache(ReadPeerRosterVersion, ReadPeerRoster);
    }

    private protected SqlDialect Dialect { get; }

    public abstract string Description { get; }

    /// <summary>A new open connection; the caller disposes it.</summary>
    private protected abstract DbConnection OpenConnection();

    private long _reads;

    /// <summary>How many of its callers' reads this store took to the database (not its own rechecks of the peer roster): for tests.</summary>
    internal long DatabaseReads => Interlocked.Read(ref _reads);

    /// <summary>A connection for one of the callers' reads, counted.</summary>
    private protected DbConnection ReadConnection()
    {
        Interlocked.Increment(ref _reads);
        return OpenConnection();
    }

    public abstract Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct = default);

    /// <summary>After a purge: make the engine let go of old copies of purged content it still keeps on disk.</summary>
    public abstract Task CheckpointAsync();

    public void Dispose()
    {
        _roster.Dispose();
        DisposeEngine();
    }

    private protected abstract void DisposeEngine();

    /// <summary>Every write transaction, once committed: one that changed the peer roster makes this process read it again.</summary>
    private protected void Committed(SqlStoreTransaction tx)
    {
        if (tx.ChangedPeerRoster)
        {
            _roster.Invalidate();
        }
    }

    private List<T> Query<T>(string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] args)
    {
        using var c = ReadConnection();
        return c.Query(null, sql, read, args);
    }

    private long Scalar(string sql, params (string Name, object? Value)[] args)
    {
        using var c = ReadConnection();
        return (long)c.Scalar(null, sql, args)!;
    }

    /// <summary>Reads through a transaction's queries, outside any transaction.</summary>
    private T Read<T>(Func<SqlStoreTransaction, T> read)
    {
        using var c = ReadConnection();
        using var tx = new SqlStoreTransaction(c, null, Dialect);
        return read(tx);
    }

    // ---- Objects and events --------------------------------------------------------

    public StoredObject? GetObject(string objectId) => Read(tx => tx.GetObject(objectId));

    public IReadOnlyList<StoredObject> ListObjects(ObjectKind kind) => Query(
        "SELECT object_id, kind, origin, last_seq, state FROM objects WHERE kind = @k ORDER BY updated_at DESC",
        SqlStoreTransaction.ReadObject, ("@k", (int)kind));

    public IReadOnlyList<StoredEvent> LoadEvents(string objectId, ulong afterSequence, int limit) => Query(
        "SELECT object_id, kind, seq, event_id, payload, signature, signer FROM events WHERE object_id = @o AND seq > @s ORDER BY seq LIMIT @l",
        r => new StoredEvent(r.GetString(0), (ObjectKind)r.GetInt32(1), (ulong)r.GetInt64(2), r.GetString(3), r.Bytes(4), r.Bytes(5), r.NullableBytes(6)),
        ("@o", objectId), ("@s", (long)afterSequence), ("@l", limit));

    /// <summary>Objects with events held behind a gap: they need a backfill from their origin.</summary>
    public IReadOnlyList<string> ObjectsWithHeldEvents() => Query("SELECT DISTINCT object_id FROM held_events", r => r.GetString(0));

    /// <summary>
    /// Objects <paramref name="origin"/> originates and has opened (drafts have no log),
    /// in object-id order after <paramref name="afterObjectId"/>: the pages of ListShared.
    /// </summary>
    public IReadOnlyList<StoredObject> OriginObjectsAfter(string origin, string afterObjectId, int limit) => Query("""
        SELECT object_id, kind, origin, last_seq, state FROM objects
        WHERE origin = @g AND last_seq > 0 AND object_id > @a ORDER BY object_id LIMIT @l
        """, SqlStoreTransaction.ReadObject, ("@g", origin), ("@a", afterObjectId), ("@l", limit));

    public IReadOnlyList<QuarantinedEvent> ListQuarantined() => Query(
        "SELECT object_id, seq, event_id, reason, quarantined_at FROM quarantined_events ORDER BY quarantined_at DESC, object_id, seq LIMIT 1000",
        r => new QuarantinedEvent(r.GetString(0), (ulong)r.GetInt64(1), r.GetString(2), r.GetString(3), r.Time(4)));

    public byte[]? GetLocalDetails(string objectId) =>
        Query("SELECT details FROM local_details WHERE object_id = @o", r => r.Bytes(0), ("@o", objectId)) is [var d] ? d : null;

    public IReadOnlyList<byte[]> ListReports(string fightId) => Query(
        "SELECT report FROM fight_reports WHERE fight_id = @f ORDER BY id", r => r.Bytes(0), ("@f", fightId));

    public IReadOnlyList<StoredValue> AllLocalDetails() =>
        Query("SELECT object_id, details FROM local_details ORDER BY object_id", r => new StoredValue(r.GetString(0), r.Bytes(1)));

    public IReadOnlyList<StoredValue> AllReports() =>
        Query("SELECT id, report FROM fight_reports ORDER BY id", r => new StoredValue(r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture), r.Bytes(1)));

    // ---- Peers ---------------------------------------------------------------------
    // Read from memory (PeerRosterCache): every peer call and every delivery asks.

    public PeerRecord? GetPeer(string nodeId) =>
        _roster.Current.ById.GetValueOrDefault(nodeId) ?? _roster.RecheckForMissing()?.ById.GetValueOrDefault(nodeId);

    public IReadOnlyList<byte[]> Revocations() => _roster.Current.Revocations;

    public IReadOnlyList<PeerRecord> ListPeers() => _roster.Current.Peers;

    public IReadOnlyList<PeerRegion> PeerRegions() => _roster.Current.Regions;

    public IReadOnlyList<PeerProtocolRecord> PeerProtocols() => _roster.Current.Protocols;

    public PeerProtocolRecord? PeerProtocol(string nodeId) => _roster.Current.ProtocolOf.GetValueOrDefault(nodeId);

    public event Action<IReadOnlyList<byte[]>>? RevocationsRead
    {
        add => _roster.RevocationsRead += value;
        remove => _roster.RevocationsRead -= value;
    }

    /// <summary>How many times this store read the peer roster from the database (it holds it in memory): for tests.</summary>
    internal long PeerRosterReads => _roster.Loads;

    private const string PeerRosterVersion = "SELECT version FROM peer_roster_version";

    private long ReadPeerRosterVersion()
    {
        using var c = OpenConnection();
        return (long)c.Scalar(null, PeerRosterVersion)!;
    }

    // The version first: a write that commits between the two reads moves it again, and the
    // next recheck reads the roster anew.
    private PeerRoster ReadPeerRoster()
    {
        using var c = OpenConnection();
        var version = (long)c.Scalar(null, PeerRosterVersion)!;
        // The peers and their regions from the same rows.
        var rows = c.Query(null, "SELECT node_id, name, address, public_key, state, added_at, region FROM peers ORDER BY added_at",
            r => (Peer: new PeerRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.Bytes(3), r.GetString(4), r.Time(5)), Region: r.GetString(6)));
        return new PeerRoster(version,
            rows.Select(row => row.Peer).ToList(),
            rows.Select(row => new PeerRegion(row.Peer.NodeId, row.Region)).ToList(),
            c.Query(null, "SELECT node_id, protocol, software, capabilities, seen_at, refusal FROM peer_protocols",
                r => new PeerProtocolRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.Time(4), r.StringOrNull(5))),
            c.Query(null, "SELECT signed FROM key_revocations ORDER BY network_id, key_id", r => r.Bytes(0)));
    }

    // ---- Tokens and audit ----------------------------------------------------------

    public (TokenRecord Token, byte[] Hash)? FindToken(string id) =>
        Query("SELECT id, name, role, created_at, revoked_at, sessions_after, hash FROM delegate_tokens WHERE id = @i",
            r => (ReadToken(r), r.Bytes(6)), ("@i", id)) is [var found] ? found : null;

    public IReadOnlyList<TokenRecord> ListTokens() =>
        Query("SELECT id, name, role, created_at, revoked_at, sessions_after FROM delegate_tokens ORDER BY created_at", ReadToken);

    private static TokenRecord ReadToken(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), (Role)r.GetInt32(2), r.Time(3), r.TimeOrNull(4), r.TimeOrNull(5));

    public IReadOnlyList<AuditEntry> ListAudit(int limit) => Query(
        "SELECT id, at, who, role, action, object_id, outcome FROM audit_log ORDER BY id DESC LIMIT @l",
        r => new AuditEntry(r.GetInt64(0), r.Time(1), r.GetString(2), r.GetString(3), r.GetString(4), r.StringOrNull(5), r.GetString(6)),
        ("@l", limit));

    // ---- Several replicas ----------------------------------------------------------

    public IReadOnlyList<string> DashboardKeys() => Query("SELECT xml FROM dashboard_keys ORDER BY name", r => r.GetString(0));

    /// <summary>Counts rows in a table; for tests and diagnostics.</summary>
    public long Count(string table)
    {
        if (!table.All(ch => char.IsAsciiLetterLower(ch) || ch == '_'))
        {
            throw new ArgumentException("Not a table name.", nameof(table));
        }
        return Scalar($"SELECT COUNT(*) FROM {table}");
    }
}
