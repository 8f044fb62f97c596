using Federation.Contracts.V1;

namespace Federation.Core.Storage;

/// <summary>Reads of objects, their event logs, held events, local details and fight reports.</summary>
public interface IObjectReads
{
    StoredObject? GetObject(string objectId);
    IReadOnlyList<StoredObject> ListObjects(ObjectKind kind);
    IReadOnlyList<StoredEvent> LoadEvents(string objectId, ulong afterSequence, int limit);

    /// <summary>Objects with events held behind a gap: they need a backfill from their origin.</summary>
    IReadOnlyList<string> ObjectsWithHeldEvents();

    /// <summary>
    /// Objects <paramref name="origin"/> originates and has opened (drafts have no log),
    /// in object-id order after <paramref name="afterObjectId"/>: the pages of ListShared.
    /// </summary>
    IReadOnlyList<StoredObject> OriginObjectsAfter(string origin, string afterObjectId, int limit);

    /// <summary>Every object <paramref name="origin"/> originates and has opened, read a page at a time.</summary>
    IEnumerable<StoredObject> OriginObjects(string origin)
    {
        var after = "";
        while (OriginObjectsAfter(origin, after, 200) is { Count: > 0 } page)
        {
            foreach (var o in page)
            {
                yield return o;
            }
            after = page[^1].ObjectId;
        }
    }

    /// <summary>A fight's local details (or an issuer-only report-back) as stored: sealed, or clear from before sealing began.</summary>
    byte[]? GetLocalDetails(string objectId);

    /// <summary>A fight's referrals and incidents as stored (serialised FightReports, sealed or clear), oldest first.</summary>
    IReadOnlyList<byte[]> ListReports(string fightId);

    /// <summary>Every local-details row, for sealing in place what was stored before sealing began.</summary>
    IReadOnlyList<StoredValue> AllLocalDetails();

    /// <summary>Every report row by its id, for the same.</summary>
    IReadOnlyList<StoredValue> AllReports();

    /// <summary>Events taken out of their logs by a revocation, newest first.</summary>
    IReadOnlyList<QuarantinedEvent> ListQuarantined();
}

/// <summary>Writes of objects and events, held events, submissions, local details and fight reports.</summary>
public interface IObjectWrites
{
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

    /// <summary>Replaces the signature of one of this node's own events (same bytes, a key that is not revoked).</summary>
    void ResignEvent(string objectId, ulong sequence, byte[] signature, byte[]? signer);

    /// <summary>Moves an object's events from <paramref name="sequence"/> on out of its log, into quarantine, saying why.</summary>
    int QuarantineEventsFrom(string objectId, ulong sequence, string reason);
    void PutLocalDetails(string objectId, byte[] details);
    bool DeleteLocalDetails(string objectId);
    int DeleteReports(string fightId);
    void InsertReport(string fightId, string network, byte[] report);

    /// <summary>Replaces a value stored before sealing began by its sealed form, unless it changed since it was read. False if it did.</summary>
    bool SealLocalDetails(string objectId, byte[] clear, byte[] sealedValue);

    /// <summary>The same for a report, by its id.</summary>
    bool SealReport(string id, byte[] clear, byte[] sealedValue);

    /// <summary>The same for an event's payload (a participants-only log's, docs/adr/0025).</summary>
    bool SealEvent(string objectId, ulong sequence, byte[] clear, byte[] sealedValue);

    /// <summary>Replaces an object's state stored before sealing began by its skeleton, unless it changed since it was read. False if it did.</summary>
    bool SealObjectState(string objectId, byte[] clear, byte[] skeleton);
    void Hold(string objectId, ulong sequence, byte[] envelope);

    /// <summary>How many events of <paramref name="originNodeId"/>'s objects are held, waiting for a gap.</summary>
    long CountHeldOf(string originNodeId);

    /// <summary>Removes and returns the held envelope with this sequence, if one arrived early.</summary>
    byte[]? TakeHeld(string objectId, ulong sequence);

    void DropHeldUpTo(string objectId, ulong sequence);
    ulong? SubmissionSequence(string submissionId);
    void RecordSubmission(string submissionId, string objectId, ulong sequence);
}
