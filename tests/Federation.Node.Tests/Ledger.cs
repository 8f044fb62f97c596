using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Domain;
using Microsoft.Data.Sqlite;

namespace Federation.Node.Tests;

/// <summary>
/// Compares, per event id, what an origin's log says a peer should hold with what the
/// peer holds, reading both nodes' databases directly (the nodes may be other processes).
/// </summary>
public static class Ledger
{
    public sealed record Audit(string Peer, int Expected, int Lost, int AppliedTwice, int Unexpected, string Details)
    {
        public bool Clean => Lost == 0 && AppliedTwice == 0 && Unexpected == 0;

        public override string ToString() =>
            $"{Peer}: expected {Expected}, lost {Lost}, applied twice {AppliedTwice}, unexpected {Unexpected}{Details}";
    }

    private sealed record Row(string ObjectId, long Sequence, string EventId);

    /// <summary>
    /// Lost: an event of the origin's objects shared with the peer that the peer lacks.
    /// Applied twice: an event id stored more than once, or an object whose folded state
    /// at the peer differs from the origin's although the peer holds all its events (each
    /// event folded once gives the origin's state exactly).
    /// Unexpected: an event of the origin's objects at the peer that the origin never wrote.
    /// </summary>
    public static Audit Compare(string originDb, string originId, string peerDb, string peerId, string peerName)
    {
        var prefix = originId + ".";
        var originObjects = Objects(originDb).Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary();
        var shared = originObjects
            .Where(o => Audience.Of(StateCodec.Parse(o.Value.Kind, o.Value.State)).Contains(peerId))
            .Select(o => o.Key).ToHashSet();
        var originEvents = Events(originDb).Where(e => shared.Contains(e.ObjectId)).ToList();
        var expected = originEvents.Select(e => e.EventId).ToHashSet();
        var atPeer = Events(peerDb).Where(e => e.ObjectId.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var copies = atPeer.GroupBy(e => e.EventId).ToDictionary(g => g.Key, g => g.Count());

        var lost = expected.Where(id => !copies.ContainsKey(id)).ToList();
        var twice = copies.Where(c => c.Value > 1).Select(c => c.Key).ToList();
        var unexpected = copies.Keys.Where(id => !expected.Contains(id)).ToList();

        var peerObjects = Objects(peerDb);
        var diverged = shared
            .Where(id => originEvents.Where(e => e.ObjectId == id).All(e => copies.ContainsKey(e.EventId)))
            .Where(id => !peerObjects.TryGetValue(id, out var p) || !p.State.AsSpan().SequenceEqual(AsPeersHoldIt(originObjects[id]))
                || p.LastSequence != originObjects[id].LastSequence)
            .ToList();

        var details = lost.Count + twice.Count + unexpected.Count + diverged.Count == 0 ? ""
            : $" (lost e.g. {string.Join(", ", lost.Take(3))}; twice {string.Join(", ", twice.Take(3))}; unexpected {string.Join(", ", unexpected.Take(3))}; state differs for {string.Join(", ", diverged.Take(3))})";
        return new Audit(peerName, expected.Count, lost.Count, twice.Count + diverged.Count, unexpected.Count, details);
    }

    /// <summary>The origin's state as its peers fold it, without what only the origin keeps (a call-out's list of recipients).</summary>
    private static byte[] AsPeersHoldIt((ObjectKind Kind, long LastSequence, byte[] State) o) =>
        Google.Protobuf.MessageExtensions.ToByteArray(EventLog.AsOthersHoldIt(StateCodec.Parse(o.Kind, o.State)));

    public static Audit Compare(NodeProcess origin, NodeProcess peer) =>
        Compare(origin.DbPath, origin.NodeId, peer.DbPath, peer.NodeId, peer.Name);

    public static Audit Compare(TestNode origin, TestNode peer) =>
        Compare(origin.Store.Path, origin.NodeId, peer.Store.Path, peer.NodeId, peer.Name);

    /// <summary>Events stored at a node.</summary>
    public static long EventCount(string db) => Scalar(db, "SELECT COUNT(*) FROM events");

    /// <summary>Outbox rows not yet acknowledged by <paramref name="peerId"/>.</summary>
    public static long Pending(string db, string peerId) => Scalar(db,
        "SELECT COUNT(*) FROM outbox o WHERE o.peer_id = $p AND o.id > COALESCE((SELECT delivered_id FROM peer_delivery WHERE peer_id = $p), 0)", peerId);

    public static long Pending(string db) => Scalar(db, "SELECT COUNT(*) FROM outbox");

    /// <summary>True once delivery to <paramref name="peerId"/> has failed and not yet recovered.</summary>
    public static bool Failing(string db, string peerId) =>
        Scalar(db, "SELECT COUNT(*) FROM peer_delivery WHERE peer_id = $p AND failing_since IS NOT NULL", peerId) > 0;

    private static IEnumerable<Row> Events(string db)
    {
        using var c = Open(db);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT object_id, seq, event_id FROM events";
        using var r = cmd.ExecuteReader();
        var rows = new List<Row>();
        while (r.Read())
        {
            rows.Add(new Row(r.GetString(0), r.GetInt64(1), r.GetString(2)));
        }
        return rows;
    }

    private static Dictionary<string, (ObjectKind Kind, long LastSequence, byte[] State)> Objects(string db)
    {
        using var c = Open(db);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT object_id, kind, last_seq, state FROM objects WHERE last_seq > 0";
        using var r = cmd.ExecuteReader();
        var objects = new Dictionary<string, (ObjectKind, long, byte[])>();
        while (r.Read())
        {
            objects[r.GetString(0)] = ((ObjectKind)r.GetInt32(1), r.GetInt64(2), (byte[])r[3]);
        }
        return objects;
    }

    private static long Scalar(string db, string sql, string? p = null)
    {
        using var c = Open(db);
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        if (p is not null)
        {
            cmd.Parameters.AddWithValue("$p", p);
        }
        return (long)cmd.ExecuteScalar()!;
    }

    // Read-only use of a database another process writes: WAL lets readers in beside it.
    private static SqliteConnection Open(string db)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=10000;";
        cmd.ExecuteNonQuery();
        return c;
    }
}
