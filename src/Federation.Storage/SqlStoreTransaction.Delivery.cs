using Federation.Core.Storage;
using static Federation.Storage.SqlRows;

namespace Federation.Storage;

/// <summary>Writes of the outbox, delivery leases and cursors, dead letters and catch-up.</summary>
internal sealed partial class SqlStoreTransaction
{
    public void Enqueue(string peerId, OutboxKind kind, string objectId, ulong sequence, byte[]? body)
    {
        LockOutbox(peerId);
        Later("INSERT INTO outbox (peer_id, kind, object_id, seq, body, created_at) VALUES (@p, @k, @o, @s, @b, @t)",
            ("@p", peerId), ("@k", (int)kind), ("@o", objectId), ("@s", (long)sequence), ("@b", body), ("@t", Now));
    }

    /// <summary>A later-committed item must never get a smaller id than one already visible (see <see cref="SqlDialect.LockPeerOutbox"/>).</summary>
    private void LockOutbox(string peerId)
    {
        if (_sql.LockPeerOutbox is { } lockSql && _lockedPeers.Add(peerId))
        {
            _lockedSinceSave.Add(peerId);
            Later(lockSql, ("@p", peerId));
        }
    }

    public void DropOutbox(string peerId) => Execute("DELETE FROM outbox WHERE peer_id = @p", ("@p", peerId));

    // Deleting from the middle of a peer's queue is safe: its cursor only moves forward over ids.
    public int DeleteOutboxItems(string objectId) => Execute("DELETE FROM outbox WHERE object_id = @o", ("@o", objectId));

    public int DeleteDeadLetters(string objectId) => Execute("DELETE FROM dead_letters WHERE object_id = @o", ("@o", objectId));

    public int DeleteHeldEvents(string objectId) => Execute("DELETE FROM held_events WHERE object_id = @o", ("@o", objectId));

    /// <summary>Takes the peer's delivery lease if no one holds it: one batch in flight per peer.</summary>
    public bool TryLease(string peerId, string owner, DateTimeOffset until)
    {
        Execute("INSERT INTO peer_delivery (peer_id) VALUES (@p) ON CONFLICT DO NOTHING", ("@p", peerId));
        return Execute("UPDATE peer_delivery SET lease_owner = @w, lease_until = @u WHERE peer_id = @p AND (lease_until <= @now OR lease_owner = @w)",
            ("@p", peerId), ("@w", owner), ("@u", until.ToUnixTimeMilliseconds()), ("@now", Now)) == 1;
    }

    public void ReleaseLease(string peerId, string owner) => Execute(
        "UPDATE peer_delivery SET lease_owner = NULL, lease_until = 0 WHERE peer_id = @p AND lease_owner = @w", ("@p", peerId), ("@w", owner));

    /// <summary>
    /// Releases live leases whose owner <paramref name="isGone"/> says has died, so a node
    /// restarted after a crash does not wait out the lease its dead process held.
    /// </summary>
    public int ReleaseLeasesOf(Func<string, bool> isGone)
    {
        var held = Query("SELECT peer_id, lease_owner FROM peer_delivery WHERE lease_owner IS NOT NULL AND lease_until > @now",
            r => (Peer: r.GetString(0), Owner: r.GetString(1)), ("@now", Now));
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
        Execute("INSERT INTO peer_delivery (peer_id) VALUES (@p) ON CONFLICT DO NOTHING", ("@p", peerId));
        Execute("UPDATE peer_delivery SET rung_until = @u WHERE peer_id = @p", ("@p", peerId), ("@u", until.ToUnixTimeMilliseconds()));
    }

    /// <summary>The doorbell was answered (or never went out): the dispatcher may ring again.</summary>
    public void Unring(string peerId) => Execute("UPDATE peer_delivery SET rung_until = 0 WHERE peer_id = @p", ("@p", peerId));

    public void UnringAll() => Execute("UPDATE peer_delivery SET rung_until = 0 WHERE rung_until > 0");

    /// <summary>Moves the cursor past delivered items and forgets them; clears the failure streak.</summary>
    public void Advance(string peerId, long deliveredId)
    {
        Execute($"""
            UPDATE peer_delivery SET delivered_id = {_sql.Greatest("delivered_id", "@d")}, attempts = 0, next_attempt_at = 0,
                   failing_since = NULL, last_error = NULL, last_delivered_at = @now WHERE peer_id = @p
            """, ("@p", peerId), ("@d", deliveredId), ("@now", Now));
        Execute("DELETE FROM outbox WHERE peer_id = @p AND id <= @d", ("@p", peerId), ("@d", deliveredId));
    }

    /// <summary>
    /// Records a failed attempt and when to try next. <paramref name="countAttempt"/> is
    /// false when no call was made (the circuit was open), so the backoff does not grow for it,
    /// and the last call's own error stays as the cause: "circuit open" alone tells an
    /// operator nothing they can fix. <paramref name="error"/> is kept only when there is none.
    /// </summary>
    public void RecordFailure(string peerId, string error, DateTimeOffset nextAttemptAt, bool countAttempt = true)
    {
        Execute("INSERT INTO peer_delivery (peer_id) VALUES (@p) ON CONFLICT DO NOTHING", ("@p", peerId));
        Execute($"""
            UPDATE peer_delivery SET attempts = attempts + @c, next_attempt_at = @n, last_error = {(countAttempt ? "@e" : "COALESCE(last_error, @e)")},
                   failing_since = COALESCE(failing_since, @now) WHERE peer_id = @p
            """, ("@p", peerId), ("@c", countAttempt ? 1 : 0), ("@n", nextAttemptAt.ToUnixTimeMilliseconds()), ("@e", error), ("@now", Now));
    }

    public int Attempts(string peerId) =>
        Convert.ToInt32(Scalar("SELECT attempts FROM peer_delivery WHERE peer_id = @p", ("@p", peerId)) ?? 0);

    /// <summary>True while delivery to the peer is in a failure streak.</summary>
    public bool IsFailing(string peerId) =>
        Scalar("SELECT failing_since FROM peer_delivery WHERE peer_id = @p", ("@p", peerId)) is long;

    /// <summary>Parks an item a peer refused for good, and moves the cursor past it; a sealed submission stays sealed.</summary>
    public void DeadLetter(OutboxItem item, string status, string error)
    {
        Execute("""
            INSERT INTO dead_letters (peer_id, kind, object_id, seq, body, status, error, parked_at)
            VALUES (@p, @k, @o, @s, @b, @st, @e, @t)
            """, ("@p", item.PeerId), ("@k", (int)item.Kind), ("@o", item.ObjectId), ("@s", (long)item.Sequence),
            ("@b", item.Kind == OutboxKind.Submission ? item.AtRest ?? item.Body : null), ("@st", status), ("@e", error), ("@t", Now));
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
            if (_sql.LockPeerOutbox is not null && Scalar("SELECT peer_id FROM dead_letters WHERE id = @id", ("@id", id)) is string peerId)
            {
                LockOutbox(peerId);
            }
            replayed += Execute("""
                INSERT INTO outbox (peer_id, kind, object_id, seq, body, created_at)
                SELECT peer_id, kind, object_id, seq, body, @t FROM dead_letters WHERE id = @id
                """, ("@id", id), ("@t", Now));
            Execute("DELETE FROM dead_letters WHERE id = @id", ("@id", id));
        }
        return replayed;
    }

    public bool SealWaitingSubmission(WaitingSubmission waiting, byte[] sealedValue) => Execute(
        $"UPDATE {(waiting.DeadLetter ? "dead_letters" : "outbox")} SET body = @s WHERE id = @i AND kind = 2 AND body = @c",
        ("@s", sealedValue), ("@i", waiting.Id), ("@c", waiting.Body)) == 1;

    /// <summary>Records a catch-up pass from a peer: a success when <paramref name="error"/> is null.</summary>
    public void RecordCatchUp(string peerId, string? error)
    {
        Execute("INSERT INTO peer_catchup (peer_id) VALUES (@p) ON CONFLICT DO NOTHING", ("@p", peerId));
        if (error is null)
        {
            Execute("UPDATE peer_catchup SET caught_up_at = @now, failing_since = NULL, last_error = NULL WHERE peer_id = @p", ("@p", peerId), ("@now", Now));
        }
        else
        {
            Execute("UPDATE peer_catchup SET failing_since = COALESCE(failing_since, @now), last_error = @e WHERE peer_id = @p",
                ("@p", peerId), ("@e", error), ("@now", Now));
        }
    }
}
