namespace Federation.Core;

/// <summary>Settings of one node: from the command line (--name, --port, --data) or "Node:*" configuration.</summary>
public sealed class NodeOptions
{
    /// <summary>A human name for the network, shown to peers.</summary>
    public string Name { get; set; } = "node";

    /// <summary>Where the network acts (a city or region), told to peers so call-outs can be sent to "peers in Leeds".</summary>
    public string Region { get; set; } = "";

    /// <summary>
    /// The network's time zone, an IANA id such as Europe/London: the dashboard shows and
    /// takes times in it. Only for people: UTC stays in storage, on the wire and in --json.
    /// A wrong id stops the node at start, naming this setting.
    /// </summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>The zone <see cref="TimeZone"/> names (a method, so configuration binding never calls it); the start-up check makes sure it exists.</summary>
    public TimeZoneInfo FindZone() => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    /// <summary>
    /// Interface to listen on. Loopback by default: exposing a node is a deliberate act, and
    /// on any other interface the node refuses to start without <see cref="Tls"/> (or
    /// <see cref="InsecureCleartext"/>).
    /// </summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>
    /// Lets the node (and its dashboard) listen in cleartext on an interface other than
    /// loopback: for a private network behind a TLS proxy, say. The node says so on every start.
    /// </summary>
    public bool InsecureCleartext { get; set; }

    public int Port { get; set; } = 5000;

    /// <summary>
    /// The web dashboard's port (HTTP/1.1, because browsers do not speak cleartext HTTP/2).
    /// Unset: the gRPC port + 3000 (5001 → 8001); 0 turns the dashboard off. Not +1000:
    /// 5000 + 1000 is port 6000, which browsers refuse to open (X11).
    /// </summary>
    public int? DashboardPort { get; set; }

    /// <summary>
    /// The dashboard's interface, apart from gRPC's: loopback by default, so a node that
    /// peers over the network still shows its dashboard to this machine only (reach it
    /// through an SSH tunnel or a TLS proxy, docs/operators.md).
    /// </summary>
    public string DashboardHost { get; set; } = "127.0.0.1";

    /// <summary>
    /// PEM certificate (and <see cref="DashboardCertificateKey"/>) the dashboard serves over
    /// HTTPS when <see cref="Tls"/> is on; unset, it serves the node's own self-signed one.
    /// </summary>
    public string DashboardCertificate { get; set; } = "";

    /// <summary>The private key (PEM) of <see cref="DashboardCertificate"/>.</summary>
    public string DashboardCertificateKey { get; set; } = "";

    /// <summary>
    /// The dashboard is reached only through an HTTPS proxy on this machine (which ends TLS
    /// and forwards to the loopback port): its cookies are then marked Secure and it sends
    /// HSTS, as when it serves HTTPS itself.
    /// </summary>
    public bool DashboardBehindHttpsProxy { get; set; }

    /// <summary>
    /// The dashboard's cookie name; empty means <c>solnet-&lt;dashboard port&gt;</c>. Replicas
    /// of one node behind one address whose dashboard ports differ set the same name, so a
    /// sign-in at one is a sign-in at all.
    /// </summary>
    public string DashboardCookie { get; set; } = "";

    /// <summary>
    /// A file whose first line is the storage passphrase, read at start to unlock the node
    /// (or, the first time, to set its storage key up): for unlocking at boot, from
    /// systemd-creds (<c>LoadCredentialEncrypted=</c>, then <c>%d/storage-passphrase</c>), never from
    /// the data folder, or the key would rest beside what it seals. Empty: the node starts
    /// locked and an operator unlocks it with <c>solnet unlock</c>.
    /// </summary>
    public string StoragePassphraseFile { get; set; } = "";

    /// <summary>
    /// What a node's first start makes its network's key with, when its data folder holds no
    /// <c>node.key</c>: <c>ed25519</c>, or <c>ecdsa-p256</c> for a network that must peer with
    /// release 0.1.0 nodes (which verify nothing else). Read only then: a network keeps its
    /// first key for good, since that key's hash is the network's id (docs/adr/0029).
    /// </summary>
    public string NetworkKeyAlgorithm { get; set; } = "ed25519";

    /// <summary>The algorithm <see cref="NetworkKeyAlgorithm"/> names, or null for a name this release does not know (refused at start).</summary>
    public Federation.Contracts.V1.SignatureAlgorithm? FindNetworkKeyAlgorithm() => Federation.Contracts.Signatures.Parse(NetworkKeyAlgorithm);

    /// <summary>Where the SQLite database, the identity key and the operator token live.</summary>
    public string DataDir { get; set; } = "";

    /// <summary>The address peers use to reach this node; defaults to http://Host:Port (https:// with <see cref="Tls"/>).</summary>
    public string PublicAddress { get; set; } = "";

    /// <summary>
    /// Serve gRPC over TLS with a self-signed certificate made from the node's identity key,
    /// and require peers calling over TLS to present theirs (mutual TLS). Off by default:
    /// cleartext is for loopback development, where there is no path to listen on.
    /// </summary>
    public bool Tls { get; set; }

    /// <summary>Most envelopes sent to one peer in one call.</summary>
    public int DeliveryBatchSize { get; set; } = 200;

    /// <summary>
    /// Peers delivered to at once by this process. Each peer still has at most one batch in
    /// flight; this is how many different peers do. Their database writes share group commits,
    /// so a call-out to many networks is not delivered a couple of peers at a time.
    /// </summary>
    public int DeliveryConcurrency { get; set; } = 64;

    /// <summary>Deadline for each call to a peer.</summary>
    public TimeSpan PeerCallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the node checks its database and broker, for `solnet status` and the log.</summary>
    public TimeSpan DependencyCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First retry delay after a failed delivery; it doubles on each failure up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the dispatcher looks for due work even when nothing has signalled it.</summary>
    public TimeSpan DispatchInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a peer's circuit breaker stays open after repeated failures: calls to that
    /// peer fail at once instead of waiting out a deadline each.
    /// </summary>
    public TimeSpan PeerCircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often this node pulls, from every peer, what that peer shares with it (besides
    /// on start and when a failing peer answers again). Zero turns the periodic pass off.
    /// </summary>
    public TimeSpan CatchUpInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A peer failing for longer than this is shown as unavailable. Delivery to it still goes on.</summary>
    public TimeSpan UnavailableAfter { get; set; } = TimeSpan.FromDays(3);

    /// <summary>
    /// How often the node says Hello to every peer to exchange protocol versions and
    /// capabilities (docs/protocol.md "Compatibility"); it also does at start, and a peer's
    /// own Hello after an upgrade is heard at once.
    /// </summary>
    public TimeSpan ProtocolExchangeInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// "sqlite" (the default: node.db in the data folder, one process) or "postgres"
    /// (<see cref="Postgres"/>: several replicas of this node may share the database).
    /// </summary>
    public string Database { get; set; } = "sqlite";

    public PostgresOptions Postgres { get; set; } = new();

    /// <summary>The read-only ActivityPub actor (issue 19, ADR 24): off unless turned on.</summary>
    public FediverseOptions Fediverse { get; set; } = new();

    /// <summary>Relay through a mutual peer when the direct path fails (issue 18 #2, docs/adr/0027).</summary>
    public RelayOptions Relay { get; set; } = new();

    /// <summary>"inmemory" (one process, the default) or "rabbitmq" (work shared through a broker).</summary>
    public string Bus { get; set; } = "inmemory";

    public RabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>How often an initiator re-sends the stand-down to networks that have not acknowledged the end.</summary>
    public TimeSpan StandDownResendInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How long after a fight ends its confidential details (local details, briefings, referrals and incidents) are kept.</summary>
    public TimeSpan PurgeAfter { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often the node looks for ended fights whose confidential details are due for purging.</summary>
    public TimeSpan PurgeSweepInterval { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Sustained calls per second accepted from one peer (bursts of twice that).</summary>
    public int PeerRequestsPerSecond { get; set; } = 200;

    /// <summary>
    /// Sustained signature checks per second one peer may ask of this node (each envelope
    /// of a delivery and each submission is one; bursts of twice that). Without it, 200
    /// calls a second of 1000 envelopes each asked for 200,000 checks a second.
    /// </summary>
    public int PeerVerificationsPerSecond { get; set; } = 2000;

    /// <summary>
    /// Most out-of-order events held, per origin, until the gap before them is filled.
    /// Past it, early events are not kept: the gap is fetched from the origin in order
    /// anyway, so nothing is lost, and no origin can fill this node's disk with events
    /// numbered far ahead.
    /// </summary>
    public int MaxHeldEventsPerPeer { get; set; } = 10_000;

    /// <summary>Sustained calls per second accepted from one delegate token (bursts of twice that).</summary>
    public int DelegateRequestsPerSecond { get; set; } = 20;

    /// <summary>
    /// Refusals of callers with no valid token are audited once per address per window,
    /// with a count of the rest, so they cannot flood the audit log.
    /// </summary>
    public TimeSpan AuditRefusalWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A dashboard session ends this long after sign-in, however busy it is.</summary>
    public TimeSpan DashboardSessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>A dashboard session left idle this long ends (each request renews it, up to the lifetime).</summary>
    public TimeSpan DashboardSessionIdle { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often an open stream (the inbox subscription) rechecks its token when nothing in
    /// this process said it changed: a revocation made at another replica or by the admin command.
    /// </summary>
    public TimeSpan TokenRecheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest message accepted, in bytes.</summary>
    public int MaxMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Added to the machine's clock wherever the node signs or checks a time that crosses
    /// the wire (see <see cref="NodeClock"/>). Zero in production; the fault tests skew a
    /// node's clock with it.
    /// </summary>
    public TimeSpan ClockOffset { get; set; } = TimeSpan.Zero;

    public string ResolvedDataDir => string.IsNullOrWhiteSpace(DataDir) ? Path.Combine("data", Name) : DataDir;

    /// <summary>Whether browsers reach the dashboard over HTTPS (its own, or a proxy's).</summary>
    public bool DashboardOverHttps => Tls || DashboardBehindHttpsProxy;

    public int ResolvedDashboardPort => DashboardPort ?? (Port + 3000 <= 65535 ? Port + 3000 : 0);

    /// <summary>
    /// What this node tells its peers its address is, so that a node restored on a new server
    /// is found there: the configured public address, or the listening one when it names a
    /// host; nothing when it listens on every interface and no public address is set, since
    /// "0.0.0.0" would send its peers nowhere.
    /// </summary>
    public string AnnouncedAddress => !string.IsNullOrWhiteSpace(PublicAddress) ? ResolvedPublicAddress
        : Host is "0.0.0.0" or "::" or "[::]" or "*" or "+" ? "" : ResolvedPublicAddress;

    public string ResolvedPublicAddress => string.IsNullOrWhiteSpace(PublicAddress) ? $"{(Tls ? "https" : "http")}://{Host}:{Port}" : PublicAddress.TrimEnd('/');
}

/// <summary>Where this node's own broker is. Never share a broker with another network.</summary>
public sealed class RabbitMqOptions
{
    public string Host { get; set; } = "127.0.0.1";
    public ushort Port { get; set; } = 5672;
    public string VirtualHost { get; set; } = "/";
    public string Username { get; set; } = "guest";
    public string Password { get; set; } = "guest";

    /// <summary>
    /// Declare the node's queues as quorum queues (replicated, for a RabbitMQ cluster)
    /// instead of classic durable ones. A queue's type is fixed when it is created: to
    /// switch, delete the node's queues or use a new virtual host.
    /// </summary>
    public bool QuorumQueues { get; set; }

    /// <summary>Messages the broker hands this node before it acknowledges any.</summary>
    public ushort PrefetchCount { get; set; } = 16;
}

/// <summary>This node's own PostgreSQL database. Never share a database with another network.</summary>
public sealed class PostgresOptions
{
    /// <summary>An Npgsql connection string, e.g. "Host=127.0.0.1;Port=5432;Database=alpha;Username=alpha;Password=…".</summary>
    public string ConnectionString { get; set; } = "";
}

/// <summary>"Node:Fediverse:*": the network as a followable fediverse account (docs/operators.md "On the fediverse").</summary>
public sealed class FediverseOptions
{
    /// <summary>Off by default: nothing is served or sent to the fediverse until an operator turns it on.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The public https:// address a fediverse server reaches the actor at (the TLS proxy in
    /// front of the dashboard's port), e.g. https://solnet.example.org. Its host is the
    /// account's domain: acct:<see cref="Account"/>@host.
    /// </summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>The account's name, e.g. leeds-solnet for @leeds-solnet@solnet.example.org: letters, digits, '-', '_' and '.'.</summary>
    public string Account { get; set; } = "";

    /// <summary>"Group" (the default: a network is a group) or "Service".</summary>
    public string ActorType { get; set; } = "Group";

    /// <summary>Largest inbox body taken; anything longer is refused with 413 before it is read whole.</summary>
    public int MaxInboxBytes { get; set; } = 256 * 1024;

    /// <summary>Deadline for fetching a remote actor (to check its key) and for each delivery.</summary>
    public TimeSpan RemoteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest remote actor document read.</summary>
    public int MaxRemoteDocumentBytes { get; set; } = 512 * 1024;

    /// <summary>
    /// Lets the node fetch actors and deliver to addresses on loopback or private networks.
    /// Off by default, so a Follow cannot make the node dial inside its own network; the
    /// interop tests turn it on to reach a Fedify actor on 127.0.0.1.
    /// </summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>A delivery failing this many times is parked as a dead letter.</summary>
    public int MaxDeliveryAttempts { get; set; } = 20;
}

/// <summary>Relay through a mutual peer (issue 18 #2, docs/adr/0027): <c>Node:Relay:*</c>.</summary>
public sealed class RelayOptions
{
    /// <summary>
    /// How long the direct path to a peer must have failed before what is queued for it goes
    /// through a relay both sides allow. Long enough that a restart or a short outage is
    /// waited out on the direct road, which carries everything at once.
    /// </summary>
    public TimeSpan After { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the node looks for peers to reach by relay, forwards what it holds as relay, and collects receipts.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A parcel sent by relay is sent again (a new parcel) when no receipt came in this long, or sooner when more is queued.</summary>
    public TimeSpan ResendAfter { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a relay keeps a parcel it could not hand over; it forgets it then.</summary>
    public TimeSpan ParcelLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The most this node holds as relay for one source network, in bytes of sealed parcels
    /// not yet taken by their recipients. 0: this node relays for no one.
    /// </summary>
    public long QuotaPerSourceBytes { get; set; } = 64L * 1024 * 1024;
}
