using Microsoft.Data.Sqlite;

namespace Federation.Storage;

/// <summary>Creates and migrates the schema on start; the version lives in PRAGMA user_version.</summary>
internal static class SqliteSchema
{
    // Append new migrations; never edit one that has shipped.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE peers (
            node_id     TEXT PRIMARY KEY,
            name        TEXT NOT NULL,
            address     TEXT NOT NULL,
            public_key  BLOB NOT NULL,
            state       TEXT NOT NULL,
            added_at    INTEGER NOT NULL
        );
        -- Current state of every fight and call-out this node holds, folded from its events.
        CREATE TABLE objects (
            object_id   TEXT PRIMARY KEY,
            kind        INTEGER NOT NULL,
            origin      TEXT NOT NULL,
            last_seq    INTEGER NOT NULL,
            state       BLOB NOT NULL,
            updated_at  INTEGER NOT NULL
        );
        -- The signed event logs, exactly as signed by their origins.
        CREATE TABLE events (
            object_id   TEXT NOT NULL,
            kind        INTEGER NOT NULL,
            seq         INTEGER NOT NULL,
            event_id    TEXT NOT NULL UNIQUE,
            payload     BLOB NOT NULL,
            signature   BLOB NOT NULL,
            stored_at   INTEGER NOT NULL,
            PRIMARY KEY (object_id, seq)
        );
        -- Verified events that arrived ahead of a gap, waiting for the gap to be filled.
        CREATE TABLE held_events (
            object_id   TEXT NOT NULL,
            seq         INTEGER NOT NULL,
            envelope    BLOB NOT NULL,
            PRIMARY KEY (object_id, seq)
        );
        -- Transactional outbox: written in the same transaction as the events it sends.
        -- kind 1 = event (body NULL: read from events), 2 = submission (body = signed bytes).
        CREATE TABLE outbox (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            peer_id     TEXT NOT NULL,
            kind        INTEGER NOT NULL,
            object_id   TEXT NOT NULL,
            seq         INTEGER NOT NULL,
            body        BLOB,
            created_at  INTEGER NOT NULL
        );
        CREATE INDEX outbox_by_peer ON outbox (peer_id, id);
        -- Per-peer delivery cursor, lease (one batch in flight) and retry timing.
        CREATE TABLE peer_delivery (
            peer_id         TEXT PRIMARY KEY,
            delivered_id    INTEGER NOT NULL DEFAULT 0,
            lease_owner     TEXT,
            lease_until     INTEGER NOT NULL DEFAULT 0,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            failing_since   INTEGER,
            last_error      TEXT
        );
        -- Submissions this node (as origin) has recorded, so a retried one is applied once.
        CREATE TABLE submissions (
            submission_id   TEXT PRIMARY KEY,
            object_id       TEXT NOT NULL,
            seq             INTEGER NOT NULL
        );
        -- Items a peer refused permanently: kept for an operator to see and replay.
        CREATE TABLE dead_letters (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            peer_id     TEXT NOT NULL,
            kind        INTEGER NOT NULL,
            object_id   TEXT NOT NULL,
            seq         INTEGER NOT NULL,
            body        BLOB,
            status      TEXT NOT NULL,
            error       TEXT NOT NULL,
            parked_at   INTEGER NOT NULL
        );
        """,
        """
        -- Referrals and incidents filed with this node as initiator of a fight. Kept here
        -- only: they are not part of the fight's shared log.
        CREATE TABLE fight_reports (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            fight_id    TEXT NOT NULL,
            network     TEXT NOT NULL,
            report      BLOB NOT NULL,
            filed_at    INTEGER NOT NULL
        );
        CREATE INDEX fight_reports_by_fight ON fight_reports (fight_id, id);
        """,
        """
        -- Delegate tokens: only a hash of the secret is kept.
        CREATE TABLE delegate_tokens (
            id          TEXT PRIMARY KEY,
            name        TEXT NOT NULL,
            role        INTEGER NOT NULL,
            hash        BLOB NOT NULL,
            created_at  INTEGER NOT NULL,
            revoked_at  INTEGER
        );
        -- Who did what, when, to which object. Never message bodies.
        CREATE TABLE audit_log (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          INTEGER NOT NULL,
            who         TEXT NOT NULL,
            role        TEXT NOT NULL,
            action      TEXT NOT NULL,
            object_id   TEXT,
            outcome     TEXT NOT NULL
        );
        """,
        """
        -- The local tier: details of the affected worker or tenant. Never federated.
        CREATE TABLE local_details (
            object_id   TEXT PRIMARY KEY,
            details     BLOB NOT NULL,
            updated_at  INTEGER NOT NULL
        );
        """,
        // 5 — call-outs end to end: peers' regions (for region audiences), and outbound
        // notifications (webhooks, e-mail) with their delivery status and retry timing.
        $"""
        ALTER TABLE peers ADD COLUMN region TEXT NOT NULL DEFAULT '';
        CREATE TABLE notification_channels (
            id          TEXT PRIMARY KEY,
            kind        TEXT NOT NULL,          -- 'webhook' or 'email'
            target      TEXT NOT NULL,          -- URL or e-mail address
            secret      TEXT,                   -- webhook HMAC key
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  INTEGER NOT NULL
        );
        -- Every call-out event this node stores, origin's or replica's, in the order it was
        -- stored: the inbox subscription, webhooks and e-mail read from here. A trigger
        -- fills it in the same transaction as the event, whichever write path stored it.
        CREATE TABLE callout_feed (
            position    INTEGER PRIMARY KEY AUTOINCREMENT,
            object_id   TEXT NOT NULL,
            seq         INTEGER NOT NULL
        );
        CREATE TRIGGER callout_feed_on_event AFTER INSERT ON events WHEN NEW.kind = 2
        BEGIN
            INSERT INTO callout_feed (object_id, seq) VALUES (NEW.object_id, NEW.seq);
        END;
        -- How far each reader of the feed has got.
        CREATE TABLE feed_cursors (
            name        TEXT PRIMARY KEY,
            position    INTEGER NOT NULL
        );
        CREATE TABLE notification_deliveries (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            channel_id      TEXT NOT NULL,
            cursor          INTEGER NOT NULL,   -- the feed item (callout_feed.position) it carries
            object_id       TEXT NOT NULL,
            change          INTEGER NOT NULL,
            body            BLOB NOT NULL,      -- the InboxItem as it was when the event was seen
            state           TEXT NOT NULL,      -- pending, delivered, failed
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error      TEXT,
            created_at      INTEGER NOT NULL,
            delivered_at    INTEGER,
            UNIQUE (channel_id, cursor)
        );
        {SharedSchema.NotificationDeliveryIndexes}
        """,
        // 6 — durable delivery: one doorbell per peer at a time, catch-up state.
        """
        -- A doorbell (bus message) is out for this peer until rung_until: the dispatcher
        -- rings once, not every pass, and rings again if that one was lost.
        ALTER TABLE peer_delivery ADD COLUMN rung_until INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE peer_delivery ADD COLUMN last_delivered_at INTEGER;
        -- Catch-up: pulling from each peer what it shares with this node.
        CREATE TABLE peer_catchup (
            peer_id         TEXT PRIMARY KEY,
            caught_up_at    INTEGER,
            failing_since   INTEGER,
            last_error      TEXT
        );
        CREATE INDEX dead_letters_by_peer ON dead_letters (peer_id, id);
        """,
        // 7 — several replicas: leases for jobs one replica runs at a time, dashboard cookie keys.
        $"""
        CREATE TABLE job_leases (
            job         TEXT PRIMARY KEY,
            lease_owner TEXT NOT NULL,
            lease_until INTEGER NOT NULL
        );
        {SharedSchema.DashboardKeys}
        """,
        // 8 — "sign out everywhere": dashboard sessions of a token begun before this end.
        """
        ALTER TABLE delegate_tokens ADD COLUMN sessions_after INTEGER;
        """,
        // 9 — protocol versions and capabilities per peer (issue 23).
        SharedSchema.PeerProtocols,
        // 10 — people hear of fights too (issue 17 #1): the feed takes fight and briefings
        // events as well as call-outs', and a channel can be limited to kinds of notification.
        $"""
        DROP TRIGGER callout_feed_on_event;
        CREATE TRIGGER callout_feed_on_event AFTER INSERT ON events WHEN NEW.kind IN (1, 2, 3)
        BEGIN
            INSERT INTO callout_feed (object_id, seq) VALUES (NEW.object_id, NEW.seq);
        END;
        {SharedSchema.ChannelKinds}
        """,
        // 11 — the initiator hears of referrals and incidents (issue 17 #1): they are not
        // events (ADR 13), so a filed report enters the feed by a trigger of its own, in the
        // same transaction, as a feed row naming the report instead of an event.
        $"""
        {SharedSchema.FeedReportColumn}
        CREATE TRIGGER callout_feed_on_report AFTER INSERT ON fight_reports
        BEGIN
            INSERT INTO callout_feed (object_id, seq, report_id) VALUES (NEW.fight_id, 0, NEW.id);
        END;
        """,
        // 12 — "what's new" (issue 17 #2): how far in the feed each token last looked.
        SharedSchema.NewsSeen,
        // 13 — reminders (issue 17 #3): each sent once, by its key, across restarts; a
        // reminder enters the feed as a report does (migration 11).
        $"""
        CREATE TABLE reminders (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            item        BLOB NOT NULL,
            {SharedSchema.ReminderColumns}
        );
        ALTER TABLE callout_feed ADD COLUMN reminder_id BIGINT;
        CREATE TRIGGER callout_feed_on_reminder AFTER INSERT ON reminders
        BEGIN
            INSERT INTO callout_feed (object_id, seq, reminder_id) VALUES (NEW.object_id, 0, NEW.id);
        END;
        """,
        // 14 — a node restored at a new address is followed there (issue 16 #4).
        SharedSchema.PeerAnnouncedAddresses,
        // 15 — certified node keys (issue 16, docs/adr/0022): the certificate of the key that
        // signed each event, re-sent with it; the revocations each network has signed.
        SharedSchema.NetworkKeys("BLOB"),
        // 16 — the fediverse actor (issue 19, ADR 24).
        $"""
        {SharedSchema.Fediverse}
        CREATE TABLE fediverse_outbox (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            {SharedSchema.FediverseOutboxColumns}
        );
        CREATE INDEX fediverse_outbox_host ON fediverse_outbox (host, id);
        """,
        // 17 — relay through a mutual peer (issue 18 #2, docs/adr/0027).
        SharedSchema.Relay("BLOB"),
        // 18 — the peer roster's change counter (issue 20 #5).
        SharedSchema.PeerRosterVersion,
    ];

    public static void Migrate(SqliteConnection connection)
    {
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"));
        for (var i = version; i < Migrations.Length; i++)
        {
            using var tx = connection.BeginTransaction();
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = Migrations[i] + $"\nPRAGMA user_version = {i + 1};";
            cmd.ExecuteNonQuery();
            tx.Commit();
        }
    }

    private static object? Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }
}
