using System.Data.Common;
using Federation.Contracts.V1;
using Federation.Core.Storage;
using Google.Protobuf;
using static Federation.Storage.SqlRows;

namespace Federation.Storage;

/// <summary>
/// One write transaction (or, with no transaction, reads on one connection), on either
/// engine: the SQL is written once, and <see cref="SqlDialect"/> supplies what differs. On
/// PostgreSQL, where several replicas write at once, object rows are locked while an append
/// reads them, outbox writers to one peer take turns, and the lease and cursor updates are
/// single conditional statements.
/// </summary>
internal sealed partial class SqlStoreTransaction : IStoreTransaction, IDisposable
{
    private readonly DbConnection _c;
    private readonly DbTransaction? _tx;
    private readonly SqlDialect _sql;
    private readonly HashSet<string> _lockedPeers = [];
    // The peers' outbox locks taken since the last savepoint: rolling back to it releases them.
    private readonly List<string> _lockedSinceSave = [];

    // Statements this transaction has prepared, by text: reads and writes. A group commit
    // runs hundreds of writes through one transaction, and a page of catch-up hundreds of
    // events, mostly the same few statements: preparing each once, not once per use, takes
    // SQLite's parser off those paths. PostgreSQL keeps a statement prepared on its pooled
    // connection, so later transactions on it find it prepared and do not parse and plan it
    // again (issue 20 #5); the batches held back (Flush) are prepared the same way.
    private readonly Dictionary<string, DbCommand> _prepared = [];

    public SqlStoreTransaction(DbConnection c, DbTransaction? tx, SqlDialect sql)
    {
        _c = c;
        _tx = tx;
        _sql = sql;
    }

    private object? Scalar(string sql, params (string Name, object? Value)[] args)
    {
        Flush();
        return Prepared(sql, args).ExecuteScalar();
    }

    private List<T> Query<T>(string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] args)
    {
        Flush();
        return Prepared(sql, args).Rows(read);
    }

    private int Execute(string sql, params (string Name, object? Value)[] args)
    {
        Flush();
        return Prepared(sql, args).ExecuteNonQuery();
    }

    /// <summary>This transaction's command for <paramref name="sql"/>, made and prepared at its first use, with <paramref name="args"/> bound.</summary>
    private DbCommand Prepared(string sql, (string Name, object? Value)[] args)
    {
        if (!_prepared.TryGetValue(sql, out var cmd))
        {
            cmd = _c.Command(_tx, sql, args);
            cmd.Prepare();
            _prepared[sql] = cmd;
            return cmd;
        }
        cmd.Bind(args);
        return cmd;
    }

    // ---- Statements held back to go together (SqlDialect.BatchesWrites) ----------------

    // In order; sent before the next statement that returns something, and at the end of each write.
    private readonly List<(string Sql, (string Name, object? Value)[] Args)> _held = [];

    /// <summary>A statement whose result no one reads: held back where the engine batches them, run now where it does not.</summary>
    private void Later(string sql, params (string Name, object? Value)[] args)
    {
        if (_sql.BatchesWrites)
        {
            _held.Add((sql, args));
        }
        else
        {
            Execute(sql, args);
        }
    }

    /// <summary>Sends the held statements, in one round trip. A group calls it at the end of each write, so a failure is that write's.</summary>
    internal void Flush()
    {
        if (_held.Count == 0)
        {
            return;
        }
        // The server prepares nothing in a transaction whose last statement failed: a batch
        // that rolls a failed write back to its savepoint is what ends that state.
        var prepare = !_held.Exists(h => h.Sql == RollBack);
        using var batch = _c.CreateBatch();
        batch.Transaction = _tx;
        foreach (var (sql, args) in _held)
        {
            var cmd = batch.CreateBatchCommand();
            cmd.CommandText = sql;
            Add(cmd.Parameters, cmd.CreateParameter, args);
            batch.BatchCommands.Add(cmd);
        }
        _held.Clear();
        _saveHeldAt = -1; // a savepoint among them is on the server now
        if (prepare)
        {
            batch.Prepare();
        }
        batch.ExecuteNonQuery();
    }

    // ---- Savepoints, one per write of a group commit (GroupCommit) ----------------------

    private const string Savepoint = "w";
    // Where the current write's SAVEPOINT is among the held statements; -1 once it was sent.
    private int _saveHeldAt = -1;
    private const string RollBack = "ROLLBACK TO SAVEPOINT " + Savepoint;

    internal void Save()
    {
        _saveHeldAt = _held.Count;
        Later("SAVEPOINT " + Savepoint);
        _lockedSinceSave.Clear();
    }

    internal void Release() => Later("RELEASE SAVEPOINT " + Savepoint);

    /// <summary>Undoes the write since <see cref="Save"/>, and forgets the locks it took, which went with it.</summary>
    internal void RollBackToSave()
    {
        if (_sql.BatchesWrites && _saveHeldAt >= 0)
        {
            // Nothing of the write reached the server: drop it, savepoint and all.
            _held.RemoveRange(_saveHeldAt, _held.Count - _saveHeldAt);
        }
        else
        {
            _held.Clear(); // what the write held back never ran; what it sent is undone here
            Later(RollBack);
            Release();
        }
        _saveHeldAt = -1;
        _lockedPeers.ExceptWith(_lockedSinceSave);
        _lockedSinceSave.Clear();
    }

    /// <summary>Frees the prepared statements: the store disposes a transaction when it ends.</summary>
    public void Dispose()
    {
        foreach (var cmd in _prepared.Values)
        {
            cmd.Dispose();
        }
        _prepared.Clear();
    }

    // ---- Objects and events --------------------------------------------------------

    public StoredObject? GetObject(string objectId) =>
        Query("SELECT object_id, kind, origin, last_seq, state FROM objects WHERE object_id = @o" + (_tx is null ? "" : _sql.LockRowForUpdate),
            ReadObject, ("@o", objectId)) is [var o] ? o : null;

    internal static StoredObject ReadObject(DbDataReader r) =>
        new(r.GetString(0), (ObjectKind)r.GetInt32(1), r.GetString(2), (ulong)r.GetInt64(3), r.Bytes(4));

    public void PutObject(StoredObject o) => Later("""
        INSERT INTO objects (object_id, kind, origin, last_seq, state, updated_at) VALUES (@o, @k, @g, @s, @st, @t)
        ON CONFLICT (object_id) DO UPDATE SET last_seq = excluded.last_seq, state = excluded.state, updated_at = excluded.updated_at
        """, ("@o", o.ObjectId), ("@k", (int)o.Kind), ("@g", o.Origin), ("@s", (long)o.LastSequence), ("@st", o.State), ("@t", Now));

    public void InsertEvent(StoredEvent e) => Later(
        "INSERT INTO events (object_id, kind, seq, event_id, payload, signature, signer, stored_at) VALUES (@o, @k, @s, @e, @p, @sig, @signer, @t)",
        ("@o", e.ObjectId), ("@k", (int)e.Kind), ("@s", (long)e.Sequence), ("@e", e.EventId), ("@p", e.Payload), ("@sig", e.Signature),
        ("@signer", e.Signer), ("@t", Now));

    public string? GetEventId(string objectId, ulong sequence) =>
        Scalar("SELECT event_id FROM events WHERE object_id = @o AND seq = @s", ("@o", objectId), ("@s", (long)sequence)) as string;

    public void DeleteObject(string objectId)
    {
        Execute("DELETE FROM events WHERE object_id = @o", ("@o", objectId));
        Execute("DELETE FROM objects WHERE object_id = @o", ("@o", objectId));
    }

    public int DeleteEvents(string objectId) => Execute("DELETE FROM events WHERE object_id = @o", ("@o", objectId));

    public void ResignEvent(string objectId, ulong sequence, byte[] signature, byte[]? signer) => Execute(
        "UPDATE events SET signature = @sig, signer = @signer WHERE object_id = @o AND seq = @s",
        ("@o", objectId), ("@s", (long)sequence), ("@sig", signature), ("@signer", signer));

    public int QuarantineEventsFrom(string objectId, ulong sequence, string reason)
    {
        Execute("""
            INSERT INTO quarantined_events (object_id, seq, event_id, payload, signature, signer, reason, quarantined_at)
            SELECT object_id, seq, event_id, payload, signature, signer, @r, @t FROM events WHERE object_id = @o AND seq >= @s
            ON CONFLICT DO NOTHING
            """, ("@o", objectId), ("@s", (long)sequence), ("@r", reason), ("@t", Now));
        return Execute("DELETE FROM events WHERE object_id = @o AND seq >= @s", ("@o", objectId), ("@s", (long)sequence));
    }

    public void PutLocalDetails(string objectId, byte[] details) => Execute("""
        INSERT INTO local_details (object_id, details, updated_at) VALUES (@o, @d, @t)
        ON CONFLICT (object_id) DO UPDATE SET details = excluded.details, updated_at = excluded.updated_at
        """, ("@o", objectId), ("@d", details), ("@t", Now));

    public bool DeleteLocalDetails(string objectId) => Execute("DELETE FROM local_details WHERE object_id = @o", ("@o", objectId)) == 1;

    public int DeleteReports(string fightId) => Execute("DELETE FROM fight_reports WHERE fight_id = @f", ("@f", fightId));

    public void Hold(string objectId, ulong sequence, byte[] envelope) => Execute(
        "INSERT INTO held_events (object_id, seq, envelope) VALUES (@o, @s, @e) ON CONFLICT DO NOTHING",
        ("@o", objectId), ("@s", (long)sequence), ("@e", envelope));

    // Object ids are "<origin>.<id>" in lower-case hex: the prefix names the origin, and holds no LIKE wildcard.
    public long CountHeldOf(string originNodeId) =>
        Convert.ToInt64(Scalar("SELECT COUNT(*) FROM held_events WHERE object_id LIKE @p", ("@p", originNodeId + ".%")), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Removes and returns the held envelope with this sequence, if one arrived early.</summary>
    public byte[]? TakeHeld(string objectId, ulong sequence) =>
        Scalar("DELETE FROM held_events WHERE object_id = @o AND seq = @s RETURNING envelope", ("@o", objectId), ("@s", (long)sequence)) as byte[];

    public void DropHeldUpTo(string objectId, ulong sequence) => Execute(
        "DELETE FROM held_events WHERE object_id = @o AND seq <= @s", ("@o", objectId), ("@s", (long)sequence));

    // ---- Submissions, reports, tokens, audit -------------------------------------

    public ulong? SubmissionSequence(string submissionId) =>
        Scalar("SELECT seq FROM submissions WHERE submission_id = @s", ("@s", submissionId)) is long seq ? (ulong)seq : null;

    public void RecordSubmission(string submissionId, string objectId, ulong sequence) => Later(
        "INSERT INTO submissions (submission_id, object_id, seq) VALUES (@s, @o, @q)",
        ("@s", submissionId), ("@o", objectId), ("@q", (long)sequence));

    public void InsertReport(string fightId, string network, byte[] report) => Execute(
        "INSERT INTO fight_reports (fight_id, network, report, filed_at) VALUES (@f, @n, @r, @t)",
        ("@f", fightId), ("@n", network), ("@r", report), ("@t", Now));

    public bool SealLocalDetails(string objectId, byte[] clear, byte[] sealedValue) => Execute(
        "UPDATE local_details SET details = @s WHERE object_id = @o AND details = @c", ("@s", sealedValue), ("@o", objectId), ("@c", clear)) == 1;

    public bool SealReport(string id, byte[] clear, byte[] sealedValue) => Execute(
        "UPDATE fight_reports SET report = @s WHERE id = @i AND report = @c",
        ("@s", sealedValue), ("@i", long.Parse(id, System.Globalization.CultureInfo.InvariantCulture)), ("@c", clear)) == 1;

    public bool SealEvent(string objectId, ulong sequence, byte[] clear, byte[] sealedValue) => Execute(
        "UPDATE events SET payload = @s WHERE object_id = @o AND seq = @q AND payload = @c",
        ("@s", sealedValue), ("@o", objectId), ("@q", (long)sequence), ("@c", clear)) == 1;

    public bool SealObjectState(string objectId, byte[] clear, byte[] skeleton) => Execute(
        "UPDATE objects SET state = @s WHERE object_id = @o AND state = @c", ("@s", skeleton), ("@o", objectId), ("@c", clear)) == 1;

    public void InsertToken(TokenRecord t, byte[] hash) => Execute(
        "INSERT INTO delegate_tokens (id, name, role, hash, created_at) VALUES (@i, @n, @r, @h, @t)",
        ("@i", t.Id), ("@n", t.Name), ("@r", (int)t.Role), ("@h", hash), ("@t", t.CreatedAt.ToUnixTimeMilliseconds()));

    public bool RevokeToken(string id) => Execute(
        "UPDATE delegate_tokens SET revoked_at = @t WHERE id = @i AND revoked_at IS NULL", ("@i", id), ("@t", Now)) == 1;

    public bool EndTokenSessions(string id) => Execute(
        "UPDATE delegate_tokens SET sessions_after = @t WHERE id = @i AND revoked_at IS NULL", ("@i", id), ("@t", Now)) == 1;

    public long InsertAudit(string who, string role, string action, string? objectId, string outcome) => (long)Scalar(
        "INSERT INTO audit_log (at, who, role, action, object_id, outcome) VALUES (@t, @w, @r, @a, @o, @out) RETURNING id",
        ("@t", Now), ("@w", who), ("@r", role), ("@a", action), ("@o", objectId), ("@out", outcome))!;

    // A parameter that may be null is cast, so PostgreSQL knows its type (SQLite ignores it).
    public void SetAuditOutcome(long id, string outcome, string? createdObjectId) => Execute(
        "UPDATE audit_log SET outcome = @o, object_id = COALESCE(object_id, CAST(@c AS TEXT)) WHERE id = @i", ("@i", id), ("@o", outcome), ("@c", createdObjectId));

    // ---- Peers ---------------------------------------------------------------------

    /// <summary>Whether this transaction changed the peer roster: once it commits, the store reads the roster again.</summary>
    public bool ChangedPeerRoster { get; private set; }

    /// <summary>
    /// Every write to the roster (peers, peer_protocols, key_revocations) goes through here:
    /// it counts the change, so that the other processes sharing the database read the
    /// roster again too (<see cref="PeerRosterCache"/>).
    /// </summary>
    private int RosterWrite(string sql, params (string Name, object? Value)[] args)
    {
        var changed = Execute(sql, args);
        if (changed > 0)
        {
            Execute("UPDATE peer_roster_version SET version = version + 1");
            ChangedPeerRoster = true;
        }
        return changed;
    }

    /// <summary>Sets a peer's state; with <paramref name="onlyFrom"/>, only if it is in that state now.</summary>
    public bool SetPeerState(string nodeId, string state, string? onlyFrom) => RosterWrite(
        "UPDATE peers SET state = @s WHERE node_id = @n AND (CAST(@from AS TEXT) IS NULL OR state = @from)",
        ("@n", nodeId), ("@s", state), ("@from", onlyFrom)) == 1;

    public void UpsertPeer(PeerRecord p) => RosterWrite("""
        INSERT INTO peers (node_id, name, address, public_key, state, added_at) VALUES (@n, @name, @a, @k, @s, @t)
        ON CONFLICT (node_id) DO UPDATE SET name = excluded.name, address = excluded.address, state = excluded.state
        """, ("@n", p.NodeId), ("@name", p.Name), ("@a", p.Address), ("@k", p.PublicKey), ("@s", p.State), ("@t", p.AddedAt.ToUnixTimeMilliseconds()));

    public void SetPeerRegion(string nodeId, string region) => RosterWrite(
        "UPDATE peers SET region = @r WHERE node_id = @n", ("@n", nodeId), ("@r", region));

    public string? AnnouncedAddress(string nodeId) =>
        Scalar("SELECT address FROM peer_announced_addresses WHERE node_id = @n", ("@n", nodeId)) as string;

    public void SetAnnouncedAddress(string nodeId, string address) => Execute("""
        INSERT INTO peer_announced_addresses (node_id, address) VALUES (@n, @a)
        ON CONFLICT (node_id) DO UPDATE SET address = excluded.address
        """, ("@n", nodeId), ("@a", address));

    public void SaveRevocation(string networkId, string keyId, DateTimeOffset compromisedSince, byte[] signed) => RosterWrite("""
        INSERT INTO key_revocations (network_id, key_id, compromised_since, signed) VALUES (@n, @k, @s, @b)
        ON CONFLICT (network_id, key_id) DO UPDATE SET compromised_since = excluded.compromised_since, signed = excluded.signed
            WHERE excluded.compromised_since < key_revocations.compromised_since
        """, ("@n", networkId), ("@k", keyId), ("@s", compromisedSince.ToUnixTimeMilliseconds()), ("@b", signed));

    public void SetPeerProtocol(PeerProtocolRecord p) => RosterWrite("""
        INSERT INTO peer_protocols (node_id, protocol, software, capabilities, seen_at, refusal) VALUES (@n, @p, @s, @c, @t, @r)
        ON CONFLICT (node_id) DO UPDATE SET protocol = @p, software = @s, capabilities = @c, seen_at = @t, refusal = @r
        """, ("@n", p.NodeId), ("@p", p.Protocol), ("@s", p.Software), ("@c", p.Capabilities), ("@t", Now), ("@r", p.Refusal));
}
