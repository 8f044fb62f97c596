using Npgsql;

namespace Federation.Storage;

/// <summary>
/// The PostgreSQL schema: the same tables as <see cref="SqliteSchema"/>, in
/// PostgreSQL's types. The version lives in the <c>schema_version</c> table. Several
/// replicas may start at once: an advisory lock lets one migrate while the others wait.
/// </summary>
internal static class PostgresSchema
{
    // Advisory lock keys (first half: this application's namespace; second: what is locked).
    public const int LockSpace = 0x46454430; // "FED0"
    public const int MigrationLock = 1;
    public const int FeedLock = 2;
    public const int OutboxLockSpace = 0x46454431; // "FED1": second half is hashtext(peer_id)

    // Append new migrations; never edit one that has shipped. Migration 1 is SQLite's
    // migrations 1–6 in one: no PostgreSQL store existed before it.
    private static readonly string[] Migrations =
    [
        $$"""
        CREATE TABLE peers (
            node_id     TEXT PRIMARY KEY,
            name        TEXT NOT NULL,
            address     TEXT NOT NULL,
            public_key  BYTEA NOT NULL,
            state       TEXT NOT NULL,
            added_at    BIGINT NOT NULL,
            region      TEXT NOT NULL DEFAULT ''
        );
        -- Current state of every fight and call-out this node holds, folded from its events.
        -- Byte order ("C"), as in SQLite, so ListShared pages the same way on both.
        CREATE TABLE objects (
            object_id   TEXT COLLATE "C" PRIMARY KEY,
            kind        INTEGER NOT NULL,
            origin      TEXT NOT NULL,
            last_seq    BIGINT NOT NULL,
            state       BYTEA NOT NULL,
            updated_at  BIGINT NOT NULL
        );
        -- The signed event logs, exactly as signed by their origins. The primary key is
        -- what makes a sequence number unique even if two writers race.
        CREATE TABLE events (
            object_id   TEXT NOT NULL,
            kind        INTEGER NOT NULL,
            seq         BIGINT NOT NULL,
            event_id    TEXT NOT NULL UNIQUE,
            payload     BYTEA NOT NULL,
            signature   BYTEA NOT NULL,
            stored_at   BIGINT NOT NULL,
            PRIMARY KEY (object_id, seq)
        );
        CREATE TABLE held_events (
            object_id   TEXT NOT NULL,
            seq         BIGINT NOT NULL,
            envelope    BYTEA NOT NULL,
            PRIMARY KEY (object_id, seq)
        );
        -- Transactional outbox. kind 1 = event (body NULL: read from events), 2 = submission.
        CREATE TABLE outbox (
            id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            peer_id     TEXT NOT NULL,
            kind        INTEGER NOT NULL,
            object_id   TEXT NOT NULL,
            seq         BIGINT NOT NULL,
            body        BYTEA,
            created_at  BIGINT NOT NULL
        );
        CREATE INDEX outbox_by_peer ON outbox (peer_id, id);
        -- Per-peer delivery cursor, lease (one batch in flight, one replica at a time),
        -- retry timing and doorbell.
        CREATE TABLE peer_delivery (
            peer_id           TEXT PRIMARY KEY,
            delivered_id      BIGINT NOT NULL DEFAULT 0,
            lease_owner       TEXT,
            lease_until       BIGINT NOT NULL DEFAULT 0,
            attempts          INTEGER NOT NULL DEFAULT 0,
            next_attempt_at   BIGINT NOT NULL DEFAULT 0,
            failing_since     BIGINT,
            last_error        TEXT,
            rung_until        BIGINT NOT NULL DEFAULT 0,
            last_delivered_at BIGINT
        );
        CREATE TABLE submissions (
            submission_id   TEXT PRIMARY KEY,
            object_id       TEXT NOT NULL,
            seq             BIGINT NOT NULL
        );
        CREATE TABLE dead_letters (
            id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            peer_id     TEXT NOT NULL,
            kind        INTEGER NOT NULL,
            object_id   TEXT NOT NULL,
            seq         BIGINT NOT NULL,
            body        BYTEA,
            status      TEXT NOT NULL,
            error       TEXT NOT NULL,
            parked_at   BIGINT NOT NULL
        );
        CREATE INDEX dead_letters_by_peer ON dead_letters (peer_id, id);
        CREATE TABLE fight_reports (
            id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            fight_id    TEXT NOT NULL,
            network     TEXT NOT NULL,
            report      BYTEA NOT NULL,
            filed_at    BIGINT NOT NULL
        );
        CREATE INDEX fight_reports_by_fight ON fight_reports (fight_id, id);
        CREATE TABLE delegate_tokens (
            id          TEXT PRIMARY KEY,
            name        TEXT NOT NULL,
            role        INTEGER NOT NULL,
            hash        BYTEA NOT NULL,
            created_at  BIGINT NOT NULL,
            revoked_at  BIGINT
        );
        CREATE TABLE audit_log (
            id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at          BIGINT NOT NULL,
            who         TEXT NOT NULL,
            role        TEXT NOT NULL,
            action      TEXT NOT NULL,
            object_id   TEXT,
            outcome     TEXT NOT NULL
        );
        CREATE TABLE local_details (
            object_id   TEXT PRIMARY KEY,
            details     BYTEA NOT NULL,
            updated_at  BIGINT NOT NULL
        );
        CREATE TABLE notification_channels (
            id          TEXT PRIMARY KEY,
            kind        TEXT NOT NULL,
            target      TEXT NOT NULL,
            secret      TEXT,
            active      INTEGER NOT NULL DEFAULT 1,
            created_at  BIGINT NOT NULL
        );
        CREATE TABLE callout_feed (
            position    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            object_id   TEXT NOT NULL,
            seq         BIGINT NOT NULL
        );
        -- Readers follow the feed by position, so a position must never become visible
        -- after a larger one: feed inserts take turns (the lock is held until commit).
        CREATE FUNCTION callout_feed_on_event() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM pg_advisory_xact_lock({{LockSpace}}, {{FeedLock}});
            INSERT INTO callout_feed (object_id, seq) VALUES (NEW.object_id, NEW.seq);
            RETURN NULL;
        END;
        $fn$;
        CREATE TRIGGER callout_feed_on_event AFTER INSERT ON events
            FOR EACH ROW WHEN (NEW.kind = 2) EXECUTE FUNCTION callout_feed_on_event();
        CREATE TABLE feed_cursors (
            name        TEXT PRIMARY KEY,
            position    BIGINT NOT NULL
        );
        CREATE TABLE notification_deliveries (
            id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            channel_id      TEXT NOT NULL,
            cursor          BIGINT NOT NULL,
            object_id       TEXT NOT NULL,
            change          INTEGER NOT NULL,
            body            BYTEA NOT NULL,
            state           TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            last_error      TEXT,
            created_at      BIGINT NOT NULL,
            delivered_at    BIGINT,
            UNIQUE (channel_id, cursor)
        );
        {{SharedSchema.NotificationDeliveryIndexes}}
        CREATE TABLE peer_catchup (
            peer_id         TEXT PRIMARY KEY,
            caught_up_at    BIGINT,
            failing_since   BIGINT,
            last_error      TEXT
        );
        """,
        // 2 — jobs one replica runs at a time (a lease each), and the dashboard's cookie
        // keys, so that a sign-in at one replica is valid at every other.
        $"""
        CREATE TABLE job_leases (
            job         TEXT PRIMARY KEY,
            lease_owner TEXT NOT NULL,
            lease_until BIGINT NOT NULL
        );
        {SharedSchema.DashboardKeys}
        """,
        // 3 — "sign out everywhere": dashboard sessions of a token begun before this end.
        """
        ALTER TABLE delegate_tokens ADD COLUMN sessions_after BIGINT;
        """,
        // 4 — protocol versions and capabilities per peer (issue 23).
        SharedSchema.PeerProtocols,
        // 5 — people hear of fights too (issue 17 #1), as SQLite's migration 10.
        $"""
        DROP TRIGGER callout_feed_on_event ON events;
        CREATE TRIGGER callout_feed_on_event AFTER INSERT ON events
            FOR EACH ROW WHEN (NEW.kind IN (1, 2, 3)) EXECUTE FUNCTION callout_feed_on_event();
        {SharedSchema.ChannelKinds}
        """,
        // 6 — the initiator hears of referrals and incidents (issue 17 #1), as SQLite's
        // migration 11; the insert takes its turn like an event's (see callout_feed_on_event).
        $$"""
        {{SharedSchema.FeedReportColumn}}
        CREATE FUNCTION callout_feed_on_report() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM pg_advisory_xact_lock({{LockSpace}}, {{FeedLock}});
            INSERT INTO callout_feed (object_id, seq, report_id) VALUES (NEW.fight_id, 0, NEW.id);
            RETURN NULL;
        END;
        $fn$;
        CREATE TRIGGER callout_feed_on_report AFTER INSERT ON fight_reports
            FOR EACH ROW EXECUTE FUNCTION callout_feed_on_report();
        """,
        // 7 — "what's new" (issue 17 #2), as SQLite's migration 12.
        SharedSchema.NewsSeen,
        // 8 — reminders (issue 17 #3), as SQLite's migration 13.
        $$"""
        CREATE TABLE reminders (
            id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            item        BYTEA NOT NULL,
            {{SharedSchema.ReminderColumns}}
        );
        ALTER TABLE callout_feed ADD COLUMN reminder_id BIGINT;
        CREATE FUNCTION callout_feed_on_reminder() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM pg_advisory_xact_lock({{LockSpace}}, {{FeedLock}});
            INSERT INTO callout_feed (object_id, seq, reminder_id) VALUES (NEW.object_id, 0, NEW.id);
            RETURN NULL;
        END;
        $fn$;
        CREATE TRIGGER callout_feed_on_reminder AFTER INSERT ON reminders
            FOR EACH ROW EXECUTE FUNCTION callout_feed_on_reminder();
        """,
        // 9 — a node restored at a new address is followed there (issue 16 #4), as SQLite's migration 14.
        SharedSchema.PeerAnnouncedAddresses,
        // 10 — certified node keys and revocations (issue 16), as SQLite's migration 15.
        SharedSchema.NetworkKeys("BYTEA"),
        // 11 — the fediverse actor (issue 19, ADR 24), as SQLite's migration 16.
        $"""
        {SharedSchema.Fediverse}
        CREATE TABLE fediverse_outbox (
            id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            {SharedSchema.FediverseOutboxColumns}
        );
        CREATE INDEX fediverse_outbox_host ON fediverse_outbox (host, id);
        """,
        // 12 — relay through a mutual peer (issue 18 #2, docs/adr/0027), as SQLite's migration 17.
        SharedSchema.Relay("BYTEA"),
        // 13 — the peer roster's change counter (issue 20 #5), as SQLite's migration 18.
        SharedSchema.PeerRosterVersion,
        // 14 — a feed row takes its turn when its transaction commits, not when its event,
        // report or reminder is inserted (issue 20 #5): the lock that orders the feed is held
        // for the commit alone, not for the rest of an append (the object's state, the outbox,
        // the submission), and it is always the last lock a transaction takes, so it cannot
        // close a cycle with the outbox's. Positions are still given in commit order.
        """
        DROP TRIGGER callout_feed_on_event ON events;
        CREATE CONSTRAINT TRIGGER callout_feed_on_event AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.kind IN (1, 2, 3)) EXECUTE FUNCTION callout_feed_on_event();
        DROP TRIGGER callout_feed_on_report ON fight_reports;
        CREATE CONSTRAINT TRIGGER callout_feed_on_report AFTER INSERT ON fight_reports DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION callout_feed_on_report();
        DROP TRIGGER callout_feed_on_reminder ON reminders;
        CREATE CONSTRAINT TRIGGER callout_feed_on_reminder AFTER INSERT ON reminders DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION callout_feed_on_reminder();
        """,
    ];

    public static int Latest => Migrations.Length;

    public static void Migrate(NpgsqlConnection c)
    {
        using var tx = c.BeginTransaction();
        Execute(c, tx, $"SELECT pg_advisory_xact_lock({LockSpace}, {MigrationLock})");
        Execute(c, tx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        using (var read = new NpgsqlCommand("SELECT MAX(version) FROM schema_version", c, tx))
        {
            var version = read.ExecuteScalar() is int v ? v : 0;
            for (var i = version; i < Migrations.Length; i++)
            {
                Execute(c, tx, Migrations[i]);
                Execute(c, tx, $"INSERT INTO schema_version (version) VALUES ({i + 1})");
            }
        }
        tx.Commit();
    }

    private static void Execute(NpgsqlConnection c, NpgsqlTransaction tx, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, c, tx);
        cmd.ExecuteNonQuery();
    }
}
