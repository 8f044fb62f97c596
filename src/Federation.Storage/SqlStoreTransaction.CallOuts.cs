using Federation.Core.Storage;
using static Federation.Storage.SqlRows;

namespace Federation.Storage;

/// <summary>Writes of the call-out feed cursor and notifications, and of what several replicas share.</summary>
internal sealed partial class SqlStoreTransaction
{
    public long FeedCursor(string name) =>
        Scalar("SELECT position FROM feed_cursors WHERE name = @n", ("@n", name)) is long p ? p : 0;

    public void SetFeedCursor(string name, long position) => Execute("""
        INSERT INTO feed_cursors (name, position) VALUES (@n, @p)
        ON CONFLICT (name) DO UPDATE SET position = excluded.position
        """, ("@n", name), ("@p", position));

    // CASE, not MAX/GREATEST, so the one statement reads the same on both engines.
    public void SetNewsSeen(string tokenId, long position, DateTimeOffset at) => Execute("""
        INSERT INTO news_seen (token_id, position, seen_at) VALUES (@t, @p, @at)
        ON CONFLICT (token_id) DO UPDATE SET seen_at = excluded.seen_at,
            position = CASE WHEN excluded.position > news_seen.position THEN excluded.position ELSE news_seen.position END
        """, ("@t", tokenId), ("@p", position), ("@at", at.ToUnixTimeMilliseconds()));

    public bool InsertReminder(string key, string objectId, byte[] item) => Execute("""
        INSERT INTO reminders (key, object_id, item, created_at) VALUES (@k, @o, @i, @t)
        ON CONFLICT (key) DO NOTHING
        """, ("@k", key), ("@o", objectId), ("@i", item), ("@t", Now)) == 1;

    public void AddChannel(ChannelRecord channel) => Execute(
        "INSERT INTO notification_channels (id, kind, target, secret, active, created_at, kinds) VALUES (@i, @k, @t, @s, 1, @c, @kinds)",
        ("@i", channel.Id), ("@k", channel.Kind), ("@t", channel.Target), ("@s", channel.Secret), ("@c", channel.CreatedAt.ToUnixTimeMilliseconds()), ("@kinds", channel.Kinds));

    /// <summary>Stops a channel; its undelivered notifications are marked failed so the status says why they never went.</summary>
    public bool DeactivateChannel(string id)
    {
        var changed = Execute("UPDATE notification_channels SET active = 0 WHERE id = @i AND active = 1", ("@i", id)) == 1;
        Execute("UPDATE notification_deliveries SET state = 'failed', last_error = 'channel removed' WHERE channel_id = @i AND state = 'pending'", ("@i", id));
        return changed;
    }

    public void InsertDelivery(string channelId, long cursor, string objectId, int change, byte[] body) => Execute("""
        INSERT INTO notification_deliveries (channel_id, cursor, object_id, change, body, state, next_attempt_at, created_at)
        VALUES (@ch, @cu, @o, @k, @b, 'pending', @now, @now)
        ON CONFLICT DO NOTHING
        """, ("@ch", channelId), ("@cu", cursor), ("@o", objectId), ("@k", change), ("@b", body), ("@now", Now));

    public void MarkDelivered(long id) => Execute(
        "UPDATE notification_deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL, delivered_at = @now WHERE id = @i",
        ("@i", id), ("@now", Now));

    // A given-up delivery has no delivered_at; its last attempt was at next_attempt_at.
    public int ForgetBodies(DateTimeOffset before) => Execute("""
        UPDATE notification_deliveries SET body = @empty
        WHERE state <> 'pending' AND COALESCE(delivered_at, next_attempt_at, created_at) < @before AND LENGTH(body) > 0
        """, ("@empty", Array.Empty<byte>()), ("@before", before.ToUnixTimeMilliseconds()));

    /// <summary>Records a failed attempt; the delivery is retried at <paramref name="nextAttemptAt"/>, or given up when that is null.</summary>
    public void MarkAttemptFailed(long id, string error, DateTimeOffset? nextAttemptAt) => Execute("""
        UPDATE notification_deliveries SET attempts = attempts + 1, last_error = @e,
               state = CASE WHEN CAST(@n AS BIGINT) IS NULL THEN 'failed' ELSE 'pending' END,
               next_attempt_at = COALESCE(CAST(@n AS BIGINT), next_attempt_at)
        WHERE id = @i
        """, ("@i", id), ("@e", error), ("@n", nextAttemptAt?.ToUnixTimeMilliseconds()));

    // ---- Several replicas: job leases (SQLite migration 7, PostgreSQL migration 2) ----

    // A lease is taken when it is free, has run out, or is already ours (a renewal). The
    // conditional upsert is one statement, so two replicas racing for it cannot both win.
    public bool TryLeaseJob(string job, string owner, DateTimeOffset until) => Execute("""
        INSERT INTO job_leases (job, lease_owner, lease_until) VALUES (@j, @w, @u)
        ON CONFLICT (job) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
        WHERE job_leases.lease_until <= @now OR job_leases.lease_owner = excluded.lease_owner
        """, ("@j", job), ("@w", owner), ("@u", until.ToUnixTimeMilliseconds()), ("@now", Now)) == 1;

    public void ReleaseJob(string job, string owner) =>
        Execute("UPDATE job_leases SET lease_until = 0 WHERE job = @j AND lease_owner = @w", ("@j", job), ("@w", owner));

    public string? JobLeaseOwner(string job) => Scalar("SELECT lease_owner FROM job_leases WHERE job = @j", ("@j", job)) as string;

    public void PutDashboardKey(string name, string xml) =>
        Execute("INSERT INTO dashboard_keys (name, xml) VALUES (@n, @x) ON CONFLICT (name) DO NOTHING", ("@n", name), ("@x", xml));
}
