using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>Reads for call-out regions, the call-out feed and notifications (schema migration 2).</summary>
public sealed partial class SqliteStore
{
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
            WHERE f.position > $p ORDER BY f.position LIMIT $l
            """;
        cmd.Parameters.AddWithValue("$p", afterPosition);
        cmd.Parameters.AddWithValue("$l", limit);
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
        return new SqliteStoreTransaction(c, null).FeedCursor(name);
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
                r.GetInt64(4) != 0, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5))));
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
            WHERE d.state = 'pending' AND d.next_attempt_at <= $now
              AND d.channel_id IN (SELECT id FROM notification_channels WHERE active = 1)
              AND NOT EXISTS (SELECT 1 FROM notification_deliveries o
                              WHERE o.channel_id = d.channel_id AND o.state = 'pending' AND o.id < d.id AND o.next_attempt_at > $now)
            ORDER BY d.id LIMIT $l
            """, ("$now", now.ToUnixTimeMilliseconds()), ("$l", limit));

    public IReadOnlyList<DeliveryRecord> ListDeliveries(string? channelId, int limit) => channelId is null
        ? QueryDeliveries("ORDER BY d.id DESC LIMIT $l", ("$l", limit))
        : QueryDeliveries("WHERE d.channel_id = $c ORDER BY d.id DESC LIMIT $l", ("$c", channelId), ("$l", limit));

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
}

/// <summary>Writes for call-out regions, the feed cursor and notifications (schema migration 2).</summary>
public sealed partial class SqliteStoreTransaction
{
    public void SetPeerRegion(string nodeId, string region) => Execute(
        "UPDATE peers SET region = $r WHERE node_id = $n", ("$n", nodeId), ("$r", region));

    public long FeedCursor(string name)
    {
        using var cmd = Command("SELECT position FROM feed_cursors WHERE name = $n", ("$n", name));
        return cmd.ExecuteScalar() is long p ? p : 0;
    }

    public void SetFeedCursor(string name, long position) => Execute("""
        INSERT INTO feed_cursors (name, position) VALUES ($n, $p)
        ON CONFLICT (name) DO UPDATE SET position = excluded.position
        """, ("$n", name), ("$p", position));

    public void AddChannel(ChannelRecord channel) => Execute(
        "INSERT INTO notification_channels (id, kind, target, secret, active, created_at) VALUES ($i, $k, $t, $s, 1, $c)",
        ("$i", channel.Id), ("$k", channel.Kind), ("$t", channel.Target), ("$s", channel.Secret), ("$c", channel.CreatedAt.ToUnixTimeMilliseconds()));

    /// <summary>Stops a channel; its undelivered notifications are marked failed so the status says why they never went.</summary>
    public bool DeactivateChannel(string id)
    {
        var changed = Execute("UPDATE notification_channels SET active = 0 WHERE id = $i AND active = 1", ("$i", id)) == 1;
        Execute("UPDATE notification_deliveries SET state = 'failed', last_error = 'channel removed' WHERE channel_id = $i AND state = 'pending'", ("$i", id));
        return changed;
    }

    public void InsertDelivery(string channelId, long cursor, string objectId, int change, byte[] body) => Execute("""
        INSERT OR IGNORE INTO notification_deliveries (channel_id, cursor, object_id, change, body, state, next_attempt_at, created_at)
        VALUES ($ch, $cu, $o, $k, $b, 'pending', $now, $now)
        """, ("$ch", channelId), ("$cu", cursor), ("$o", objectId), ("$k", change), ("$b", body), ("$now", NowMs));

    public void MarkDelivered(long id) => Execute(
        "UPDATE notification_deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL, delivered_at = $now WHERE id = $i",
        ("$i", id), ("$now", NowMs));

    /// <summary>Records a failed attempt; the delivery is retried at <paramref name="nextAttemptAt"/>, or given up when that is null.</summary>
    public void MarkAttemptFailed(long id, string error, DateTimeOffset? nextAttemptAt) => Execute("""
        UPDATE notification_deliveries SET attempts = attempts + 1, last_error = $e,
               state = CASE WHEN $n IS NULL THEN 'failed' ELSE 'pending' END,
               next_attempt_at = COALESCE($n, next_attempt_at)
        WHERE id = $i
        """, ("$i", id), ("$e", error), ("$n", nextAttemptAt?.ToUnixTimeMilliseconds()));

    private static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
