using System.Data.Common;
using Federation.Contracts.V1;
using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>
/// Reads whose SQL is the same on SQLite and PostgreSQL (both accept @name parameters),
/// written once for both stores.
/// </summary>
internal static class SharedQueries
{
    public static IReadOnlyList<FightReport> ListReports(DbConnection c, string fightId) =>
        Rows(c, "SELECT report FROM fight_reports WHERE fight_id = @f ORDER BY id",
            r => FightReport.Parser.ParseFrom((byte[])r[0]), ("@f", fightId));

    public static (TokenRecord Token, byte[] Hash)? FindToken(DbConnection c, string id) =>
        Rows(c, "SELECT id, name, role, created_at, revoked_at, hash FROM delegate_tokens WHERE id = @i",
            r => (ReadToken(r), (byte[])r[5]), ("@i", id)) is [var found] ? found : null;

    public static IReadOnlyList<TokenRecord> ListTokens(DbConnection c) =>
        Rows(c, "SELECT id, name, role, created_at, revoked_at FROM delegate_tokens ORDER BY created_at", ReadToken);

    public static IReadOnlyList<AuditEntry> ListAudit(DbConnection c, int limit) =>
        Rows(c, "SELECT id, at, who, role, action, object_id, outcome FROM audit_log ORDER BY id DESC LIMIT @l",
            r => new AuditEntry(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2), r.GetString(3),
                r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6)), ("@l", limit));

    public static byte[]? GetLocalDetails(DbConnection c, string objectId) =>
        Rows(c, "SELECT details FROM local_details WHERE object_id = @o", r => (byte[])r[0], ("@o", objectId)) is [var d] ? d : null;

    /// <summary>
    /// A peer's next outbox items after its cursor, oldest first. Events' payloads are not read
    /// with the batch but through the envelope cache: a call-out's event is the same for each
    /// of its recipients, so only the first of them reads it (after the batch's reader is
    /// closed: a connection runs one command at a time).
    /// </summary>
    public static IReadOnlyList<OutboxItem> LoadBatch(DbConnection c, EnvelopeCache envelopes, string peerId, int limit)
    {
        var rows = Rows(c, """
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
                    Body: isEvent ? null : (byte[])r[4],
                    EventId: isEvent ? r.GetString(5) : null,
                    EventKind: isEvent ? (ObjectKind)r.GetInt32(6) : default);
            },
            ("@p", peerId), ("@l", limit));
        return rows.Select(x => new OutboxItem(x.Id, peerId, x.Kind, x.ObjectId, x.Sequence, x.Kind == OutboxKind.Event
                ? envelopes.Get(x.ObjectId, x.Sequence, x.EventId!, () => ReadEvent(c, x.ObjectId, x.EventKind, x.Sequence))
                : x.Body!))
            .ToList();
    }

    private static StoredEvent? ReadEvent(DbConnection c, string objectId, ObjectKind kind, ulong sequence) =>
        Rows(c, "SELECT event_id, payload, signature FROM events WHERE object_id = @o AND seq = @s",
            r => new StoredEvent(objectId, kind, sequence, r.GetString(0), (byte[])r[1], (byte[])r[2]),
            ("@o", objectId), ("@s", (long)sequence)) is [var e] ? e : null;

    private static TokenRecord ReadToken(DbDataReader r) => new(r.GetString(0), r.GetString(1), (Role)r.GetInt32(2),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), r.IsDBNull(4) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)));

    private static List<T> Rows<T>(DbConnection c, string sql, Func<DbDataReader, T> read, params (string Name, object Value)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            cmd.Parameters.Add(p);
        }
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read())
        {
            list.Add(read(r));
        }
        return list;
    }
}
