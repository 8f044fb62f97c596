namespace Federation.Core.Storage;

/// <summary>Reads of the outbox, delivery and catch-up state, and dead letters.</summary>
public interface IDeliveryReads
{
    /// <summary>
    /// Peers with undelivered outbox rows whose retry time has come, that no one holds a
    /// lease on, and that have no doorbell out already.
    /// </summary>
    IReadOnlyList<string> DuePeers(DateTimeOffset now);

    /// <summary>The next items for a peer after its cursor, oldest first; event bodies are read from the log.</summary>
    /// <param name="ownKeyAlgorithm">The algorithm of this node's network key: what signed its events that carry no certificate.</param>
    IReadOnlyList<OutboxItem> LoadBatch(string peerId, int limit, Federation.Contracts.V1.SignatureAlgorithm ownKeyAlgorithm = Federation.Contracts.V1.SignatureAlgorithm.EcdsaP256Sha256);

    IReadOnlyList<PeerDeliveryState> DeliveryStates();
    IReadOnlyList<PeerCatchUpState> CatchUpStates();

    /// <summary>Dead letters, oldest first; only <paramref name="peerId"/>'s when given.</summary>
    IReadOnlyList<DeadLetter> ListDeadLetters(string? peerId = null);

    IReadOnlyDictionary<string, DeadLetterCount> DeadLetterCounts();

    /// <summary>Submissions for an object that this node has queued and its origin has not yet acknowledged.</summary>
    long PendingSubmissions(string objectId);

    /// <summary>This node's submissions waiting in its outbox or dead letters, as stored: for sealing in place what was stored before sealing began (issue 24).</summary>
    IReadOnlyList<WaitingSubmission> WaitingSubmissions();
}

/// <summary>Writes of the outbox, delivery leases, cursors and doorbells, dead letters and catch-up.</summary>
public interface IDeliveryWrites
{
    /// <summary>
    /// Adds an item at the end of a peer's queue. A later-committed item never gets a
    /// smaller id than one already visible, so the cursor skips nothing.
    /// </summary>
    void Enqueue(string peerId, OutboxKind kind, string objectId, ulong sequence, byte[]? body);

    void DropOutbox(string peerId);

    /// <summary>Deletes every queued outbound item (to any peer) of an object being purged. Returns how many.</summary>
    int DeleteOutboxItems(string objectId);

    /// <summary>Deletes the dead letters of an object being purged, items waiting for a capability among them. Returns how many.</summary>
    int DeleteDeadLetters(string objectId);

    /// <summary>Deletes the events of an object being purged that arrived ahead of a gap and are held. Returns how many.</summary>
    int DeleteHeldEvents(string objectId);

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
    /// false when no call was made (the circuit was open), so the backoff does not grow for it
    /// and the last call's own error is kept as the cause (<paramref name="error"/> only fills a gap).
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

    /// <summary>Records a catch-up pass from a peer: a success when <paramref name="error"/> is null.</summary>
    void RecordCatchUp(string peerId, string? error);

    /// <summary>Replaces a waiting submission's body by its sealed form, unless it changed or left since it was read. False if it did.</summary>
    bool SealWaitingSubmission(WaitingSubmission waiting, byte[] sealedValue);
}
