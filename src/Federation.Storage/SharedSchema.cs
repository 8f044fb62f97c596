namespace Federation.Storage;

/// <summary>
/// Schema statements that are the same on both engines, written once and placed in each
/// engine's migrations (<see cref="SqliteSchema"/>, <see cref="PostgresSchema"/>). The tables
/// themselves stay per engine: their column types differ (INTEGER/BIGINT, BLOB/BYTEA,
/// AUTOINCREMENT/IDENTITY), as do the feed trigger and the migrations' history.
/// </summary>
internal static class SharedSchema
{
    public const string NotificationDeliveryIndexes = """
        CREATE INDEX notification_deliveries_due ON notification_deliveries (state, next_attempt_at);
        CREATE INDEX notification_deliveries_by_channel ON notification_deliveries (channel_id, id);
        """;

    // BIGINT is an integer on both engines (SQLite gives it INTEGER affinity).
    /// <summary>The kinds of notification a channel is sent, comma-separated names (NotificationKinds); '' = every kind.</summary>
    public const string ChannelKinds = """
        ALTER TABLE notification_channels ADD COLUMN kinds TEXT NOT NULL DEFAULT '';
        """;

    /// <summary>A feed row that tells of a filed referral or incident (fight_reports.id); NULL for an event's row.</summary>
    public const string FeedReportColumn = """
        ALTER TABLE callout_feed ADD COLUMN report_id BIGINT;
        """;

    /// <summary>How far in the feed each delegate token last looked at "what's new" (issue 17 #2).</summary>
    public const string NewsSeen = """
        CREATE TABLE news_seen (
            token_id    TEXT PRIMARY KEY,   -- delegate_tokens.id, or 'operator'
            position    BIGINT NOT NULL,    -- callout_feed.position looked up to
            seen_at     BIGINT NOT NULL
        );
        """;

    /// <summary>A reminder sent (issue 17 #3): its key makes it once. The engines add the id and the item (an InboxItem's bytes).</summary>
    public const string ReminderColumns = """
        key         TEXT NOT NULL UNIQUE,   -- Reminder.Key: what it reminds of, once for all
            object_id   TEXT NOT NULL,
            created_at  BIGINT NOT NULL
        """;

    /// <summary>
    /// Counts the changes to the peer roster (peers, what they speak, key revocations): every
    /// process that shares the database holds the roster in memory and reads it again when
    /// this moves (PeerRosterCache; issue 20 #5). One row.
    /// </summary>
    public const string PeerRosterVersion = """
        CREATE TABLE peer_roster_version (
            version     BIGINT NOT NULL
        );
        INSERT INTO peer_roster_version (version) VALUES (0);
        """;

    /// <summary>Where each peer last said it is (Identify, Hello; issue 16 #4): a peer is followed only from the address it announced before.</summary>
    public const string PeerAnnouncedAddresses = """
        CREATE TABLE peer_announced_addresses (
            node_id     TEXT PRIMARY KEY,
            address     TEXT NOT NULL
        );
        """;

    /// <summary>
    /// Certified node keys (issue 16, docs/adr/0022): the certificate of the key that signed
    /// each event, re-sent with it; the revocations each network has signed; and the events a
    /// revoked key signed after its compromise, taken before the revocation arrived: out of
    /// the log, kept for the operator to see. <paramref name="blob"/> is the engine's byte type.
    /// </summary>
    public static string NetworkKeys(string blob) => $"""
        ALTER TABLE events ADD COLUMN signer {blob};
        CREATE TABLE key_revocations (
            network_id        TEXT NOT NULL,
            key_id            TEXT NOT NULL,
            compromised_since BIGINT NOT NULL,
            signed            {blob} NOT NULL,
            PRIMARY KEY (network_id, key_id)
        );
        CREATE TABLE quarantined_events (
            object_id      TEXT NOT NULL,
            seq            BIGINT NOT NULL,
            event_id       TEXT NOT NULL,
            payload        {blob} NOT NULL,
            signature      {blob} NOT NULL,
            signer         {blob},
            reason         TEXT NOT NULL,
            quarantined_at BIGINT NOT NULL,
            PRIMARY KEY (object_id, seq, event_id)
        );
        """;

    public const string PeerProtocols = """
        -- What each peer last said it speaks (Hello, Identify, and every call's x-fed-protocol).
        CREATE TABLE peer_protocols (
            node_id      TEXT PRIMARY KEY,
            protocol     TEXT NOT NULL,     -- MAJOR.MINOR
            software     TEXT NOT NULL,     -- its release, '' when it did not say
            capabilities TEXT NOT NULL,     -- space-separated names
            seen_at      BIGINT NOT NULL,
            refusal      TEXT               -- why the two nodes cannot talk, NULL when they can
        );
        """;

    public const string DashboardKeys = """
        CREATE TABLE dashboard_keys (
            name        TEXT PRIMARY KEY,
            xml         TEXT NOT NULL
        );
        """;

    /// <summary>
    /// The fediverse actor (issue 19, ADR 24): its followers, the call-outs marked public,
    /// its key, and its delivery queue. The engines add the queue's id column.
    /// </summary>
    public const string Fediverse = """
        CREATE TABLE fediverse_followers (
            actor_id     TEXT PRIMARY KEY,
            inbox        TEXT NOT NULL,
            shared_inbox TEXT NOT NULL,      -- '' when the actor has none
            since        BIGINT NOT NULL
        );
        CREATE TABLE fediverse_call_outs (
            call_out_id  TEXT PRIMARY KEY,   -- a call-out of this node its organisers made public
            since        BIGINT NOT NULL
        );
        CREATE TABLE fediverse_key (
            id           INTEGER PRIMARY KEY CHECK (id = 1),
            private_pem  TEXT NOT NULL
        );
        """;

    /// <summary>The fediverse delivery queue's columns after its id: one row per activity per inbox.</summary>
    public const string FediverseOutboxColumns = """
        host            TEXT NOT NULL,      -- per-host order: one in flight per host
            inbox           TEXT NOT NULL,
            body            TEXT NOT NULL,      -- the activity's JSON, signed when sent
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL DEFAULT 0,
            lease_until     BIGINT NOT NULL DEFAULT 0,
            last_error      TEXT,
            dead            INTEGER NOT NULL DEFAULT 0,
            created_at      BIGINT NOT NULL
        """;

    /// <summary>
    /// Relay through a mutual peer (issue 18 #2, docs/adr/0027): the peers this node allows to
    /// relay for it; what each peer said about relaying; the parcels held as relay (sealed
    /// bytes until the recipient's receipt, then the receipt until the source collects it);
    /// and, as a sender, the peers last reached by relay. <paramref name="blob"/> is the engine's byte type.
    /// </summary>
    public static string Relay(string blob) => $"""
        CREATE TABLE relay_allowed (
            peer_id     TEXT PRIMARY KEY,
            since       BIGINT NOT NULL
        );
        CREATE TABLE peer_relay_offers (
            node_id     TEXT PRIMARY KEY,
            relays      TEXT NOT NULL,      -- space-separated node ids
            sealing_key {blob},             -- checked public half; NULL when it sent none
            seen_at     BIGINT NOT NULL
        );
        CREATE TABLE relay_parcels (
            parcel_id   TEXT PRIMARY KEY,
            source      TEXT NOT NULL,
            recipient   TEXT NOT NULL,
            parcel      {blob},             -- the RelayParcel as received; NULL once taken
            size        BIGINT NOT NULL,    -- counts against the source's quota until taken
            receipt     {blob},             -- the recipient's signed receipt, for the source
            expires_at  BIGINT NOT NULL,
            received_at BIGINT NOT NULL,
            attempts    INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL DEFAULT 0,
            last_error  TEXT
        );
        CREATE INDEX relay_parcels_by_source ON relay_parcels (source);
        CREATE TABLE relay_routes (
            peer_id     TEXT PRIMARY KEY,
            relay_id    TEXT NOT NULL,
            sent_at     BIGINT NOT NULL,
            up_to       BIGINT NOT NULL     -- the last outbox id the parcel held
        );
        """;
}
