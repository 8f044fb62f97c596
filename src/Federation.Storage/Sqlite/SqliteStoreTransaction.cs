using Federation.Contracts.V1;
using Federation.Core.Storage;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace Federation.Storage;

/// <summary>One SQLite write transaction (or, with no transaction, reads on one connection).</summary>
public sealed partial class SqliteStoreTransaction : IStoreTransaction
{
    private readonly SqliteConnection _c;
    private readonly SqliteTransaction? _tx;

    internal SqliteStoreTransaction(SqliteConnection c, SqliteTransaction? tx)
    {
        _c = c;
        _tx = tx;
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] args)
    {
        var cmd = _c.CreateCommand();
        cmd.Transaction = _tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return cmd;
    }

    // Statements this transaction has prepared, by text. A group commit runs hundreds of
    // writes through one transaction, mostly the same few statements: preparing each
    // once, not once per use, takes SQLite's parser off the write path.
    private readonly Dictionary<string, SqliteCommand> _prepared = [];

    private int Execute(string sql, params (string Name, object? Value)[] args)
    {
        if (!_prepared.TryGetValue(sql, out var cmd))
        {
            cmd = _c.CreateCommand();
            cmd.Transaction = _tx;
            cmd.CommandText = sql;
            _prepared[sql] = cmd;
        }
        cmd.Parameters.Clear();
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return cmd.ExecuteNonQuery();
    }

    /// <summary>Frees the prepared statements; the store calls it when the transaction ends.</summary>
    internal void ReleaseStatements()
    {
        foreach (var cmd in _prepared.Values)
        {
            cmd.Dispose();
        }
        _prepared.Clear();
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    // ---- Objects and events --------------------------------------------------------

    public StoredObject? GetObject(string objectId)
    {
        using var cmd = Command("SELECT object_id, kind, origin, last_seq, state FROM objects WHERE object_id = $o", ("$o", objectId));
        using var r = cmd.ExecuteReader();
        return r.Read() ? ReadObject(r) : null;
    }

    internal static StoredObject ReadObject(SqliteDataReader r) =>
        new(r.GetString(0), (ObjectKind)r.GetInt32(1), r.GetString(2), (ulong)r.GetInt64(3), (byte[])r[4]);

    public void PutObject(StoredObject o) => Execute("""
        INSERT INTO objects (object_id, kind, origin, last_seq, state, updated_at) VALUES ($o, $k, $g, $s, $st, $t)
        ON CONFLICT (object_id) DO UPDATE SET last_seq = excluded.last_seq, state = excluded.state, updated_at = excluded.updated_at
        """, ("$o", o.ObjectId), ("$k", (int)o.Kind), ("$g", o.Origin), ("$s", (long)o.LastSequence), ("$st", o.State), ("$t", Now));

    public void InsertEvent(StoredEvent e) => Execute(
        "INSERT INTO events (object_id, kind, seq, event_id, payload, signature, stored_at) VALUES ($o, $k, $s, $e, $p, $sig, $t)",
        ("$o", e.ObjectId), ("$k", (int)e.Kind), ("$s", (long)e.Sequence), ("$e", e.EventId), ("$p", e.Payload), ("$sig", e.Signature), ("$t", Now));

    public string? GetEventId(string objectId, ulong sequence)
    {
        using var cmd = Command("SELECT event_id FROM events WHERE object_id = $o AND seq = $s", ("$o", objectId), ("$s", (long)sequence));
        return cmd.ExecuteScalar() as string;
    }

    public void DeleteObject(string objectId)
    {
        Execute("DELETE FROM events WHERE object_id = $o", ("$o", objectId));
        Execute("DELETE FROM objects WHERE object_id = $o", ("$o", objectId));
    }

    public int DeleteEvents(string objectId) => Execute("DELETE FROM events WHERE object_id = $o", ("$o", objectId));

    public void PutLocalDetails(string objectId, byte[] details) => Execute("""
        INSERT INTO local_details (object_id, details, updated_at) VALUES ($o, $d, $t)
        ON CONFLICT (object_id) DO UPDATE SET details = excluded.details, updated_at = excluded.updated_at
        """, ("$o", objectId), ("$d", details), ("$t", Now));

    public bool DeleteLocalDetails(string objectId) => Execute("DELETE FROM local_details WHERE object_id = $o", ("$o", objectId)) == 1;

    public int DeleteReports(string fightId) => Execute("DELETE FROM fight_reports WHERE fight_id = $f", ("$f", fightId));

    public void Hold(string objectId, ulong sequence, byte[] envelope) => Execute(
        "INSERT OR IGNORE INTO held_events (object_id, seq, envelope) VALUES ($o, $s, $e)",
        ("$o", objectId), ("$s", (long)sequence), ("$e", envelope));

    /// <summary>Removes and returns the held envelope with this sequence, if one arrived early.</summary>
    public byte[]? TakeHeld(string objectId, ulong sequence)
    {
        using var cmd = Command("DELETE FROM held_events WHERE object_id = $o AND seq = $s RETURNING envelope", ("$o", objectId), ("$s", (long)sequence));
        return cmd.ExecuteScalar() as byte[];
    }

    public void DropHeldUpTo(string objectId, ulong sequence) => Execute(
        "DELETE FROM held_events WHERE object_id = $o AND seq <= $s", ("$o", objectId), ("$s", (long)sequence));

    // ---- Outbox and delivery -------------------------------------------------------

    public void Enqueue(string peerId, OutboxKind kind, string objectId, ulong sequence, byte[]? body) => Execute(
        "INSERT INTO outbox (peer_id, kind, object_id, seq, body, created_at) VALUES ($p, $k, $o, $s, $b, $t)",
        ("$p", peerId), ("$k", (int)kind), ("$o", objectId), ("$s", (long)sequence), ("$b", body), ("$t", Now));

    /// <summary>Takes the peer's delivery lease if no one holds it: one batch in flight per peer.</summary>
    public bool TryLease(string peerId, string owner, DateTimeOffset until)
    {
        Execute("INSERT OR IGNORE INTO peer_delivery (peer_id) VALUES ($p)", ("$p", peerId));
        return Execute("UPDATE peer_delivery SET lease_owner = $w, lease_until = $u WHERE peer_id = $p AND (lease_until <= $now OR lease_owner = $w)",
            ("$p", peerId), ("$w", owner), ("$u", until.ToUnixTimeMilliseconds()), ("$now", Now)) == 1;
    }

    public void ReleaseLease(string peerId, string owner) => Execute(
        "UPDATE peer_delivery SET lease_owner = NULL, lease_until = 0 WHERE peer_id = $p AND lease_owner = $w", ("$p", peerId), ("$w", owner));

    /// <summary>
    /// Releases live leases whose owner <paramref name="isGone"/> says has died, so a node
    /// restarted after a crash does not wait out the lease its dead process held.
    /// </summary>
    public int ReleaseLeasesOf(Func<string, bool> isGone)
    {
        var held = new List<(string Peer, string Owner)>();
        using (var cmd = Command("SELECT peer_id, lease_owner FROM peer_delivery WHERE lease_owner IS NOT NULL AND lease_until > $now", ("$now", Now)))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                held.Add((r.GetString(0), r.GetString(1)));
            }
        }
        var released = 0;
        foreach (var (peer, owner) in held.Where(h => isGone(h.Owner)))
        {
            ReleaseLease(peer, owner);
            released++;
        }
        return released;
    }

    /// <summary>Notes that a doorbell for this peer is out until <paramref name="until"/>.</summary>
    public void Ring(string peerId, DateTimeOffset until)
    {
        Execute("INSERT OR IGNORE INTO peer_delivery (peer_id) VALUES ($p)", ("$p", peerId));
        Execute("UPDATE peer_delivery SET rung_until = $u WHERE peer_id = $p", ("$p", peerId), ("$u", until.ToUnixTimeMilliseconds()));
    }

    /// <summary>The doorbell was answered (or never went out): the dispatcher may ring again.</summary>
    public void Unring(string peerId) => Execute("UPDATE peer_delivery SET rung_until = 0 WHERE peer_id = $p", ("$p", peerId));

    public void UnringAll() => Execute("UPDATE peer_delivery SET rung_until = 0 WHERE rung_until > 0");

    /// <summary>Moves the cursor past delivered items and forgets them; clears the failure streak.</summary>
    public void Advance(string peerId, long deliveredId)
    {
        Execute("""
            UPDATE peer_delivery SET delivered_id = MAX(delivered_id, $d), attempts = 0, next_attempt_at = 0,
                   failing_since = NULL, last_error = NULL, last_delivered_at = $now WHERE peer_id = $p
            """, ("$p", peerId), ("$d", deliveredId), ("$now", Now));
        Execute("DELETE FROM outbox WHERE peer_id = $p AND id <= $d", ("$p", peerId), ("$d", deliveredId));
    }

    /// <summary>
    /// Records a failed attempt and when to try next. <paramref name="countAttempt"/> is
    /// false when no call was made (the circuit was open), so the backoff does not grow for it.
    /// </summary>
    public void RecordFailure(string peerId, string error, DateTimeOffset nextAttemptAt, bool countAttempt = true)
    {
        Execute("INSERT OR IGNORE INTO peer_delivery (peer_id) VALUES ($p)", ("$p", peerId));
        Execute("""
            UPDATE peer_delivery SET attempts = attempts + $c, next_attempt_at = $n, last_error = $e,
                   failing_since = COALESCE(failing_since, $now) WHERE peer_id = $p
            """, ("$p", peerId), ("$c", countAttempt ? 1 : 0), ("$n", nextAttemptAt.ToUnixTimeMilliseconds()), ("$e", error), ("$now", Now));
    }

    public int Attempts(string peerId)
    {
        using var cmd = Command("SELECT attempts FROM peer_delivery WHERE peer_id = $p", ("$p", peerId));
        return Convert.ToInt32(cmd.ExecuteScalar() ?? 0);
    }

    /// <summary>True while delivery to the peer is in a failure streak.</summary>
    public bool IsFailing(string peerId)
    {
        using var cmd = Command("SELECT failing_since FROM peer_delivery WHERE peer_id = $p", ("$p", peerId));
        return cmd.ExecuteScalar() is long;
    }

    /// <summary>Parks an item a peer refused for good, and moves the cursor past it.</summary>
    public void DeadLetter(OutboxItem item, string status, string error)
    {
        Execute("""
            INSERT INTO dead_letters (peer_id, kind, object_id, seq, body, status, error, parked_at)
            VALUES ($p, $k, $o, $s, $b, $st, $e, $t)
            """, ("$p", item.PeerId), ("$k", (int)item.Kind), ("$o", item.ObjectId), ("$s", (long)item.Sequence),
            ("$b", item.Kind == OutboxKind.Submission ? item.Body : null), ("$st", status), ("$e", error), ("$t", Now));
        Advance(item.PeerId, item.Id);
    }

    /// <summary>
    /// Moves dead letters back to the end of their peers' outbox queues, in the order
    /// they were parked. Returns how many were moved; an id that is not parked is skipped.
    /// </summary>
    public int ReplayDeadLetters(IEnumerable<long> ids)
    {
        var replayed = 0;
        foreach (var id in ids.Order())
        {
            replayed += Execute("""
                INSERT INTO outbox (peer_id, kind, object_id, seq, body, created_at)
                SELECT peer_id, kind, object_id, seq, body, $t FROM dead_letters WHERE id = $id
                """, ("$id", id), ("$t", Now));
            Execute("DELETE FROM dead_letters WHERE id = $id", ("$id", id));
        }
        return replayed;
    }

    // ---- Catch-up ------------------------------------------------------------------

    /// <summary>Records a catch-up pass from a peer: a success when <paramref name="error"/> is null.</summary>
    public void RecordCatchUp(string peerId, string? error)
    {
        Execute("INSERT OR IGNORE INTO peer_catchup (peer_id) VALUES ($p)", ("$p", peerId));
        if (error is null)
        {
            Execute("UPDATE peer_catchup SET caught_up_at = $now, failing_since = NULL, last_error = NULL WHERE peer_id = $p", ("$p", peerId), ("$now", Now));
        }
        else
        {
            Execute("UPDATE peer_catchup SET failing_since = COALESCE(failing_since, $now), last_error = $e WHERE peer_id = $p",
                ("$p", peerId), ("$e", error), ("$now", Now));
        }
    }

    // ---- Submissions and peers -----------------------------------------------------

    public ulong? SubmissionSequence(string submissionId)
    {
        using var cmd = Command("SELECT seq FROM submissions WHERE submission_id = $s", ("$s", submissionId));
        return cmd.ExecuteScalar() is long seq ? (ulong)seq : null;
    }

    public void RecordSubmission(string submissionId, string objectId, ulong sequence) => Execute(
        "INSERT INTO submissions (submission_id, object_id, seq) VALUES ($s, $o, $q)",
        ("$s", submissionId), ("$o", objectId), ("$q", (long)sequence));

    public void InsertReport(FightReport report) => Execute(
        "INSERT INTO fight_reports (fight_id, network, report, filed_at) VALUES ($f, $n, $r, $t)",
        ("$f", report.FightId), ("$n", report.Network), ("$r", report.ToByteArray()), ("$t", Now));

    public void InsertToken(TokenRecord t, byte[] hash) => Execute(
        "INSERT INTO delegate_tokens (id, name, role, hash, created_at) VALUES ($i, $n, $r, $h, $t)",
        ("$i", t.Id), ("$n", t.Name), ("$r", (int)t.Role), ("$h", hash), ("$t", t.CreatedAt.ToUnixTimeMilliseconds()));

    public bool RevokeToken(string id) => Execute(
        "UPDATE delegate_tokens SET revoked_at = $t WHERE id = $i AND revoked_at IS NULL", ("$i", id), ("$t", Now)) == 1;

    public long InsertAudit(string who, string role, string action, string? objectId, string outcome)
    {
        using var cmd = Command(
            "INSERT INTO audit_log (at, who, role, action, object_id, outcome) VALUES ($t, $w, $r, $a, $o, $out) RETURNING id",
            ("$t", Now), ("$w", who), ("$r", role), ("$a", action), ("$o", objectId), ("$out", outcome));
        return (long)cmd.ExecuteScalar()!;
    }

    public void SetAuditOutcome(long id, string outcome, string? createdObjectId) => Execute(
        "UPDATE audit_log SET outcome = $o, object_id = COALESCE(object_id, $c) WHERE id = $i", ("$i", id), ("$o", outcome), ("$c", createdObjectId));

    /// <summary>Sets a peer's state; with <paramref name="onlyFrom"/>, only if it is in that state now.</summary>
    public bool SetPeerState(string nodeId, string state, string? onlyFrom) => Execute(
        "UPDATE peers SET state = $s WHERE node_id = $n AND ($from IS NULL OR state = $from)",
        ("$n", nodeId), ("$s", state), ("$from", onlyFrom)) == 1;

    public void DropOutbox(string peerId) => Execute("DELETE FROM outbox WHERE peer_id = $p", ("$p", peerId));

    public void UpsertPeer(PeerRecord p) => Execute("""
        INSERT INTO peers (node_id, name, address, public_key, state, added_at) VALUES ($n, $name, $a, $k, $s, $t)
        ON CONFLICT (node_id) DO UPDATE SET name = excluded.name, address = excluded.address, state = excluded.state
        """, ("$n", p.NodeId), ("$name", p.Name), ("$a", p.Address), ("$k", p.PublicKey), ("$s", p.State), ("$t", p.AddedAt.ToUnixTimeMilliseconds()));
}
