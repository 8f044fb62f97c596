using Federation.Contracts.V1;

namespace Federation.Core.Storage;

/// <summary>
/// The node's database: the source of truth. Every write goes through
/// <see cref="WriteAsync{T}"/>, one transaction each, so a state change and the outbox
/// rows it must send commit together or not at all. Reads see committed data only.
/// Implemented once per engine (<see cref="SqliteStore"/>, <see cref="PostgresStore"/>),
/// each in its own SQL dialect; the rest of the node sees only this interface.
/// </summary>
public interface IFederationStore : IDisposable
{
    /// <summary>Where the data is, for the start-up banner (never a password).</summary>
    string Description { get; }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it. An engine that lets
    /// several writers run at once (PostgreSQL, shared by replicas) may run
    /// <paramref name="work"/> again after a conflict, so it must not have effects outside
    /// the transaction.
    /// </summary>
    Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct = default);

    StoredObject? GetObject(string objectId);
    IReadOnlyList<StoredObject> ListObjects(ObjectKind kind);
    IReadOnlyList<StoredEvent> LoadEvents(string objectId, ulong afterSequence, int limit);
    PeerRecord? GetPeer(string nodeId) => ListPeers().FirstOrDefault(p => p.NodeId == nodeId);
    IReadOnlyList<PeerRecord> ListPeers();

    /// <summary>Objects with events held behind a gap: they need a backfill from their origin.</summary>
    IReadOnlyList<string> ObjectsWithHeldEvents();

    /// <summary>
    /// Peers with undelivered outbox rows whose retry time has come, that no one holds a
    /// lease on, and that have no doorbell out already.
    /// </summary>
    IReadOnlyList<string> DuePeers(DateTimeOffset now);

    /// <summary>The next items for a peer after its cursor, oldest first; event bodies are read from the log.</summary>
    IReadOnlyList<OutboxItem> LoadBatch(string peerId, int limit);

    IReadOnlyList<PeerDeliveryState> DeliveryStates();
    IReadOnlyList<PeerCatchUpState> CatchUpStates();

    /// <summary>Dead letters, oldest first; only <paramref name="peerId"/>'s when given.</summary>
    IReadOnlyList<DeadLetter> ListDeadLetters(string? peerId = null);

    /// <summary>Submissions for an object that this node has queued and its origin has not yet acknowledged.</summary>
    long PendingSubmissions(string objectId);

    IReadOnlyList<FightReport> ListReports(string fightId);
    (TokenRecord Token, byte[] Hash)? FindToken(string id);
    IReadOnlyList<TokenRecord> ListTokens();
    IReadOnlyList<AuditEntry> ListAudit(int limit);
    byte[]? GetLocalDetails(string objectId);

    /// <summary>After a purge: make the engine let go of old copies of purged content it still keeps on disk.</summary>
    Task CheckpointAsync();

    IReadOnlyDictionary<string, long> DeadLetterCounts();

    /// <summary>
    /// Objects <paramref name="origin"/> originates and has opened (drafts have no log),
    /// in object-id order after <paramref name="afterObjectId"/>: the pages of ListShared.
    /// </summary>
    IReadOnlyList<StoredObject> OriginObjectsAfter(string origin, string afterObjectId, int limit);

    /// <summary>Counts rows in a table; for tests and diagnostics.</summary>
    long Count(string table);

    // ---- Call-outs: regions, the feed, notifications --------------------------------

    IReadOnlyList<PeerRegion> PeerRegions();

    /// <summary>Call-out events stored after <paramref name="afterPosition"/>, oldest first.</summary>
    IReadOnlyList<FeedEntry> ReadFeed(long afterPosition, int limit);

    long FeedEnd();

    /// <summary>How far the named feed reader has got.</summary>
    long FeedCursor(string name);

    IReadOnlyList<ChannelRecord> ListChannels();

    /// <summary>
    /// Pending deliveries whose time has come, oldest first, to active channels. A channel
    /// whose older delivery is waiting for a retry gets nothing newer meanwhile, so a
    /// receiver sees items in order once it recovers.
    /// </summary>
    IReadOnlyList<DeliveryRecord> DueDeliveries(DateTimeOffset now, int limit);

    IReadOnlyList<DeliveryRecord> ListDeliveries(string? channelId, int limit);

    // ---- Several replicas ----------------------------------------------------------

    /// <summary>The dashboard's cookie keys (ASP.NET Data Protection key XML), shared by every replica.</summary>
    IReadOnlyList<string> DashboardKeys();
}

/// <summary>The operations one write transaction may perform.</summary>
public interface IStoreTransaction
{
    // ---- Objects and events --------------------------------------------------------

    /// <summary>
    /// The object as this transaction sees it. Inside a write, engines with concurrent
    /// writers lock its row until commit, so two appends to one object take turns and its
    /// sequence numbers stay gap-free and unique.
    /// </summary>
    StoredObject? GetObject(string objectId);

    void PutObject(StoredObject o);
    void InsertEvent(StoredEvent e);
    string? GetEventId(string objectId, ulong sequence);
    void DeleteObject(string objectId);
    int DeleteEvents(string objectId);
    void PutLocalDetails(string objectId, byte[] details);
    bool DeleteLocalDetails(string objectId);
    int DeleteReports(string fightId);
    void Hold(string objectId, ulong sequence, byte[] envelope);

    /// <summary>Removes and returns the held envelope with this sequence, if one arrived early.</summary>
    byte[]? TakeHeld(string objectId, ulong sequence);

    void DropHeldUpTo(string objectId, ulong sequence);

    // ---- Outbox and delivery -------------------------------------------------------

    /// <summary>
    /// Adds an item at the end of a peer's queue. A later-committed item never gets a
    /// smaller id than one already visible, so the cursor skips nothing.
    /// </summary>
    void Enqueue(string peerId, OutboxKind kind, string objectId, ulong sequence, byte[]? body);

    /// <summary>Takes the peer's delivery lease if no one holds it: one batch in flight per peer.</summary>
    bool TryLease(string peerId, string owner, DateTimeOffset until);

    void ReleaseLease(string peerId, string owner);

    /// <summary>
    /// Releases live leases whose owner <paramref name="isGone"/> says has died, so a node
    /// restarted after a crash does not wait out the lease its dead process held.
    /// </summary>
    int ReleaseLeasesOf(Func<string, bool> isGone);

    /// <summary>Notes that a doorbell for this peer is out until <paramref name="until"/>.</summary>
    void Ring(string peerId, DateTimeOffset until);

    /// <summary>The doorbell was answered (or never went out): the dispatcher may ring again.</summary>
    void Unring(string peerId);

    void UnringAll();

    /// <summary>Moves the cursor past delivered items and forgets them; clears the failure streak.</summary>
    void Advance(string peerId, long deliveredId);

    /// <summary>
    /// Records a failed attempt and when to try next. <paramref name="countAttempt"/> is
    /// false when no call was made (the circuit was open), so the backoff does not grow for it.
    /// </summary>
    void RecordFailure(string peerId, string error, DateTimeOffset nextAttemptAt, bool countAttempt = true);

    int Attempts(string peerId);

    /// <summary>True while delivery to the peer is in a failure streak.</summary>
    bool IsFailing(string peerId);

    /// <summary>Parks an item a peer refused for good, and moves the cursor past it.</summary>
    void DeadLetter(OutboxItem item, string status, string error);

    /// <summary>
    /// Moves dead letters back to the end of their peers' outbox queues, in the order
    /// they were parked. Returns how many were moved; an id that is not parked is skipped.
    /// </summary>
    int ReplayDeadLetters(IEnumerable<long> ids);

    // ---- Catch-up ------------------------------------------------------------------

    /// <summary>Records a catch-up pass from a peer: a success when <paramref name="error"/> is null.</summary>
    void RecordCatchUp(string peerId, string? error);

    // ---- Submissions, peers, tokens, audit -----------------------------------------

    ulong? SubmissionSequence(string submissionId);
    void RecordSubmission(string submissionId, string objectId, ulong sequence);
    void InsertReport(FightReport report);
    void InsertToken(TokenRecord t, byte[] hash);
    bool RevokeToken(string id);
    long InsertAudit(string who, string role, string action, string? objectId, string outcome);
    void SetAuditOutcome(long id, string outcome, string? createdObjectId);

    /// <summary>Sets a peer's state; with <paramref name="onlyFrom"/>, only if it is in that state now.</summary>
    bool SetPeerState(string nodeId, string state, string? onlyFrom);

    void DropOutbox(string peerId);
    void UpsertPeer(PeerRecord p);

    // ---- Call-outs: regions, the feed cursor, notifications ------------------------

    void SetPeerRegion(string nodeId, string region);
    long FeedCursor(string name);
    void SetFeedCursor(string name, long position);
    void AddChannel(ChannelRecord channel);

    /// <summary>Stops a channel; its undelivered notifications are marked failed so the status says why they never went.</summary>
    bool DeactivateChannel(string id);

    void InsertDelivery(string channelId, long cursor, string objectId, int change, byte[] body);
    void MarkDelivered(long id);

    /// <summary>Records a failed attempt; the delivery is retried at <paramref name="nextAttemptAt"/>, or given up when that is null.</summary>
    void MarkAttemptFailed(long id, string error, DateTimeOffset? nextAttemptAt);

    // ---- Several replicas ----------------------------------------------------------

    /// <summary>
    /// Takes or renews the lease on a job that one replica at a time may run (the notifier,
    /// the sweeps): true when <paramref name="owner"/> holds it until <paramref name="until"/>.
    /// </summary>
    bool TryLeaseJob(string job, string owner, DateTimeOffset until);

    void ReleaseJob(string job, string owner);

    /// <summary>Who holds (or last held) the job's lease; null if no one ever has.</summary>
    string? JobLeaseOwner(string job);

    /// <summary>Stores a dashboard cookie key; a name already stored is kept as it is (keys never change).</summary>
    void PutDashboardKey(string name, string xml);
}
