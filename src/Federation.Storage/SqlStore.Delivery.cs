using System.Data.Common;
using Federation.Contracts.V1;
using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>Reads of the outbox, delivery and catch-up state, and dead letters.</summary>
public abstract partial class SqlStore
{
    /// <summary>
    /// Peers with undelivered outbox rows whose retry time has come, that no one holds a
    /// lease on, and that have no doorbell out already.
    /// </summary>
    public IReadOnlyList<string> DuePeers(DateTimeOffset now) => Query("""
        SELECT o.peer_id FROM outbox o
        LEFT JOIN peer_delivery d ON d.peer_id = o.peer_id
        LEFT JOIN peers p ON p.node_id = o.peer_id
        WHERE o.id > COALESCE(d.delivered_id, 0)
          AND COALESCE(p.state, 'pending') IN ('pending', 'active')
          AND COALESCE(d.next_attempt_at, 0) <= @now
          AND COALESCE(d.lease_until, 0) <= @now
          AND COALESCE(d.rung_until, 0) <= @now
        GROUP BY o.peer_id
        """, r => r.GetString(0), ("@now", now.ToUnixTimeMilliseconds()));

    /// <summary>
    /// A peer's next outbox items after its cursor, oldest first. Events' payloads are not read
    /// with the batch but through the envelope cache: a call-out's event is the same for each
    /// of its recipients, so only the first of them reads it (after the batch's reader is
    /// closed: a connection runs one command at a time).
    /// </summary>
    public IReadOnlyList<OutboxItem> LoadBatch(string peerId, int limit, Federation.Contracts.V1.SignatureAlgorithm ownKeyAlgorithm = Federation.Contracts.V1.SignatureAlgorithm.EcdsaP256Sha256)
    {
        using var c = ReadConnection();
        var rows = c.Query(null, """
            SELECT o.id, o.kind, o.object_id, o.seq, o.body, e.event_id, e.kind
            FROM outbox o
            LEFT JOIN events e ON o.kind = 1 AND e.object_id = o.object_id AND e.seq = o.seq
            WHERE o.peer_id = @p AND o.id > COALESCE((SELECT delivered_id FROM peer_delivery WHERE peer_id = @p), 0)
            ORDER BY o.id LIMIT @l
            """,
            r =>
            {
                var kind = (OutboxKind)r.GetInt32(1);
                var isEvent = kind == OutboxKind.Event;
                return (Id: r.GetInt64(0), Kind: kind, ObjectId: r.GetString(2), Sequence: (ulong)r.GetInt64(3),
                    Body: isEvent ? null : r.Bytes(4),
                    EventId: isEvent ? r.GetString(5) : null,
                    EventKind: isEvent ? (ObjectKind)r.GetInt32(6) : default);
            },
            ("@p", peerId), ("@l", limit));
        return rows.Select(x => new OutboxItem(x.Id, peerId, x.Kind, x.ObjectId, x.Sequence, x.Kind == OutboxKind.Event
                ? _envelopes.Get(x.ObjectId, x.Sequence, x.EventId!, ownKeyAlgorithm, () => ReadEvent(c, x.ObjectId, x.EventKind, x.Sequence))
                : x.Body!))
            .ToList();
    }

    private static StoredEvent? ReadEvent(DbConnection c, string objectId, ObjectKind kind, ulong sequence) =>
        c.Query(null, "SELECT event_id, payload, signature, signer FROM events WHERE object_id = @o AND seq = @s",
            r => new StoredEvent(objectId, kind, sequence, r.GetString(0), r.Bytes(1), r.Bytes(2), r.NullableBytes(3)),
            ("@o", objectId), ("@s", (long)sequence)) is [var e] ? e : null;

    /// <summary>Submissions for an object that this node has queued and its origin has not yet acknowledged.</summary>
    public long PendingSubmissions(string objectId) => Scalar("""
        SELECT COUNT(*) FROM outbox o
        WHERE o.kind = 2 AND o.object_id = @o
          AND o.id > COALESCE((SELECT delivered_id FROM peer_delivery WHERE peer_id = o.peer_id), 0)
        """, ("@o", objectId));

    public IReadOnlyList<WaitingSubmission> WaitingSubmissions() => Query("""
        SELECT 0, id, object_id, body FROM outbox WHERE kind = 2 AND body IS NOT NULL
        UNION ALL
        SELECT 1, id, object_id, body FROM dead_letters WHERE kind = 2 AND body IS NOT NULL
        """, r => new WaitingSubmission(r.GetInt32(0) == 1, r.GetInt64(1), r.GetString(2), r.Bytes(3)));

    // Every peer_delivery column is grouped by (each peer has one row at most), as PostgreSQL requires.
    public IReadOnlyList<PeerDeliveryState> DeliveryStates() => Query("""
        SELECT p.node_id, COALESCE(d.delivered_id, 0), COUNT(o.id), MIN(o.created_at),
               COALESCE(d.attempts, 0), d.failing_since, d.last_error, COALESCE(d.next_attempt_at, 0), d.last_delivered_at
        FROM peers p
        LEFT JOIN peer_delivery d ON d.peer_id = p.node_id
        LEFT JOIN outbox o ON o.peer_id = p.node_id AND o.id > COALESCE(d.delivered_id, 0)
        GROUP BY p.node_id, d.delivered_id, d.attempts, d.failing_since, d.last_error, d.next_attempt_at, d.last_delivered_at
        """,
        r => new PeerDeliveryState(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.TimeOrNull(3), r.GetInt32(4), r.TimeOrNull(5),
            r.StringOrNull(6), r.Time(7), r.TimeOrNull(8)));

    public IReadOnlyList<PeerCatchUpState> CatchUpStates() => Query(
        "SELECT peer_id, caught_up_at, failing_since, last_error FROM peer_catchup",
        r => new PeerCatchUpState(r.GetString(0), r.TimeOrNull(1), r.TimeOrNull(2), r.StringOrNull(3)));

    /// <summary>Dead letters, oldest first; only <paramref name="peerId"/>'s when given.</summary>
    public IReadOnlyList<DeadLetter> ListDeadLetters(string? peerId = null) => Query(
        "SELECT id, peer_id, kind, object_id, seq, status, error, parked_at FROM dead_letters WHERE CAST(@p AS TEXT) IS NULL OR peer_id = @p ORDER BY id",
        r => new DeadLetter(r.GetInt64(0), r.GetString(1), (OutboxKind)r.GetInt32(2), r.GetString(3), (ulong)r.GetInt64(4),
            r.GetString(5), r.GetString(6), r.Time(7)),
        ("@p", peerId));

    public IReadOnlyDictionary<string, DeadLetterCount> DeadLetterCounts() =>
        Query("""
            SELECT peer_id, COUNT(*) - COUNT(CASE WHEN status LIKE @w THEN 1 END), COUNT(CASE WHEN status LIKE @w THEN 1 END)
            FROM dead_letters GROUP BY peer_id
            """, r => (Peer: r.GetString(0), Count: new DeadLetterCount(r.GetInt64(1), r.GetInt64(2))), ("@w", DeadLetter.WaitingPrefix + "%"))
            .ToDictionary(x => x.Peer, x => x.Count);
}
