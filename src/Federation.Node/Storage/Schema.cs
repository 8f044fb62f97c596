using Microsoft.Data.Sqlite;

namespace Federation.Node.Storage;

/// <summary>Creates and migrates the schema on start; the version lives in PRAGMA user_version.</summary>
internal static class Schema
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
