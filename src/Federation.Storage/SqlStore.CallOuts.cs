using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>Reads of the call-out feed and of notifications (SQLite migration 5).</summary>
public abstract partial class SqlStore
{
    /// <summary>
    /// Call-out, fight and briefings events, filed reports and reminders stored after <paramref name="afterPosition"/>,
    /// oldest first. A row whose event or report has since been purged is left out.
    /// </summary>
    public IReadOnlyList<FeedEntry> ReadFeed(long afterPosition, int limit) => Query("""
        SELECT f.position, f.object_id, f.seq, e.payload, r.report, m.item, r.network FROM callout_feed f
        LEFT JOIN events e ON f.report_id IS NULL AND f.reminder_id IS NULL AND e.object_id = f.object_id AND e.seq = f.seq
        LEFT JOIN fight_reports r ON r.id = f.report_id
        LEFT JOIN reminders m ON m.id = f.reminder_id
        WHERE f.position > @p AND (e.payload IS NOT NULL OR r.report IS NOT NULL OR m.item IS NOT NULL)
        ORDER BY f.position LIMIT @l
        """, r => new FeedEntry(r.GetInt64(0), r.GetString(1), (ulong)r.GetInt64(2),
            r.IsDBNull(3) ? [] : r.Bytes(3), r.IsDBNull(4) ? null : r.Bytes(4), r.IsDBNull(5) ? null : r.Bytes(5), r.IsDBNull(6) ? null : r.GetString(6)),
        ("@p", afterPosition), ("@l", limit));

    public long FeedEnd() => Scalar("SELECT COALESCE(MAX(position), 0) FROM callout_feed");

    public NewsSeenRecord? NewsSeen(string tokenId) => Query(
        "SELECT position, seen_at FROM news_seen WHERE token_id = @t",
        r => new NewsSeenRecord(r.GetInt64(0), r.Time(1)), ("@t", tokenId)).SingleOrDefault();

    /// <summary>How far the named feed reader has got.</summary>
    public long FeedCursor(string name) => Read(tx => tx.FeedCursor(name));

    public IReadOnlyList<ChannelRecord> ListChannels() => Query(
        "SELECT id, kind, target, secret, active, created_at, kinds FROM notification_channels ORDER BY created_at",
        r => new ChannelRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.StringOrNull(3), r.GetInt32(4) != 0, r.Time(5), r.GetString(6)));

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

    private List<DeliveryRecord> QueryDeliveries(string where, params (string Name, object? Value)[] args) => Query("""
        SELECT d.id, d.channel_id, d.cursor, d.object_id, d.change, d.body, d.state, d.attempts,
               d.next_attempt_at, d.last_error, d.created_at, d.delivered_at
        FROM notification_deliveries d
        """ + "\n" + where,
        r => new DeliveryRecord(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetInt32(4), r.Bytes(5),
            r.GetString(6), r.GetInt32(7), r.Time(8), r.StringOrNull(9), r.Time(10), r.TimeOrNull(11)),
        args);
}
