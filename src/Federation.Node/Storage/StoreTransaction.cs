using Federation.Contracts.V1;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace Federation.Node.Storage;

/// <summary>The operations one write transaction may perform.</summary>
public sealed partial class StoreTransaction
{
    private readonly SqliteConnection _c;
    private readonly SqliteTransaction? _tx;

    internal StoreTransaction(SqliteConnection c, SqliteTransaction? tx)
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

    private int Execute(string sql, params (string, object?)[] args)
    {
        using var cmd = Command(sql, args);
        return cmd.ExecuteNonQuery();
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

    /// <summary>Moves the cursor past delivered items and forgets them; clears the failure streak.</summary>
    public void Advance(string peerId, long deliveredId)
    {
        Execute("""
            UPDATE peer_delivery SET delivered_id = MAX(delivered_id, $d), attempts = 0, next_attempt_at = 0,
                   failing_since = NULL, last_error = NULL WHERE peer_id = $p
            """, ("$p", peerId), ("$d", deliveredId));
        Execute("DELETE FROM outbox WHERE peer_id = $p AND id <= $d", ("$p", peerId), ("$d", deliveredId));
    }

    public void RecordFailure(string peerId, string error, DateTimeOffset nextAttemptAt) => Execute("""
        UPDATE peer_delivery SET attempts = attempts + 1, next_attempt_at = $n, last_error = $e,
               failing_since = COALESCE(failing_since, $now) WHERE peer_id = $p
        """, ("$p", peerId), ("$n", nextAttemptAt.ToUnixTimeMilliseconds()), ("$e", error), ("$now", Now));

    public int Attempts(string peerId)
    {
        using var cmd = Command("SELECT attempts FROM peer_delivery WHERE peer_id = $p", ("$p", peerId));
        return Convert.ToInt32(cmd.ExecuteScalar() ?? 0);
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
