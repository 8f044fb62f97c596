using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Sealing;

/// <summary>
/// The participants-only log at rest (issue 24, docs/adr/0025). Its events rest with their
/// signed payload sealed to the storage key, byte for byte as the origin signed it once
/// opened; its stored state is the clear skeleton <see cref="Briefings.Skeleton"/>, which is
/// all a locked node needs to append to it and apply what arrives. The texts are read by
/// folding the opened events, which needs the node unlocked.
/// </summary>
public sealed class SealedLogs(StorageVault vault)
{
    /// <summary>The event as it rests: its payload sealed when its log is sealed.</summary>
    public StoredEvent ForDisk(StoredEvent e) =>
        EventTiers.SealedAtRest(e.Kind) && !StorageVault.IsSealed(e.Payload) ? e with { Payload = vault.Seal(e.Payload) } : e;

    /// <summary>The object as it rests: the skeleton of a sealed log's state.</summary>
    public static StoredObject ForDisk(StoredObject o) =>
        o.Kind == ObjectKind.Briefings ? o with { State = Briefings.Skeleton(BriefingsState.Parser.ParseFrom(o.State)).ToByteArray() } : o;

    /// <summary>A held (early) envelope as it rests: sealed whole when its log is sealed.</summary>
    public byte[] HeldForDisk(ObjectKind kind, byte[] envelope) => EventTiers.SealedAtRest(kind) ? vault.Seal(envelope) : envelope;

    /// <summary>The event with its payload as signed; false only when it is sealed and the node is locked.</summary>
    public bool TryOpen(StoredEvent e, out StoredEvent opened)
    {
        if (!vault.TryOpen(e.Payload, out var payload))
        {
            opened = e;
            return false;
        }
        opened = ReferenceEquals(payload, e.Payload) ? e : e with { Payload = payload };
        return true;
    }

    /// <summary>The event with its payload as signed; refused with "the node is locked" when it cannot be opened.</summary>
    public StoredEvent Open(StoredEvent e) => TryOpen(e, out var opened) ? opened : throw StorageVault.Locked();

    public bool TryOpenHeld(byte[] held, out byte[] envelope) => vault.TryOpen(held, out envelope);

    /// <summary>
    /// A signed submission as it waits in the outbox (and, refused, in the dead letters): sealed
    /// whole when what it carries is not for the object's whole audience (<see cref="EventTiers.SealedAtRest(SubmissionPayload, BriefingsState?)"/>).
    /// It is opened only to be sent, so a locked node keeps it waiting.
    /// </summary>
    public byte[] SubmissionForDisk(SubmissionPayload submission, BriefingsState? participants, byte[] signed) =>
        EventTiers.SealedAtRest(submission, participants) ? vault.Seal(signed) : signed;

    /// <summary>A submission as signed; false only when it is sealed and the node is locked.</summary>
    public bool TryOpenSubmission(byte[] stored, out byte[] signed) => vault.TryOpen(stored, out signed);

    public bool Unlocked => vault.Unlocked || !vault.HasKey;

    /// <summary>
    /// The participants-only log with its texts: folded from its opened events. A purged log
    /// has no events and no texts, so its skeleton is all of it. Refused while locked.
    /// </summary>
    public BriefingsState? Full(IObjectReads store, string objectId)
    {
        if (store.GetObject(objectId) is not { Kind: ObjectKind.Briefings } stored)
        {
            return null;
        }
        var skeleton = BriefingsState.Parser.ParseFrom(stored.State);
        if (skeleton.Purged)
        {
            return skeleton;
        }
        IMessage? state = null;
        for (ulong after = 0; after < stored.LastSequence;)
        {
            var events = store.LoadEvents(objectId, after, 500);
            if (events.Count == 0)
            {
                break;
            }
            // The object and its events are two reads: an event applied between them is past
            // the state read first, and is left for the next read.
            foreach (var e in events.TakeWhile(e => e.Sequence <= stored.LastSequence))
            {
                state = EventLog.Apply(state, EventPayload.Parser.ParseFrom(Open(e).Payload));
            }
            after = events[^1].Sequence;
        }
        // A log whose events this node does not all hold (none is deleted without purging it)
        // would fold short: say so rather than show part of it as all of it.
        return state is BriefingsState full && full.LastSequence == stored.LastSequence
            ? full
            : throw new InvalidOperationException($"The participants-only log {objectId} does not hold all its events ({stored.LastSequence}); fetch it again from its origin.");
    }

    /// <summary>What a reader may see while locked: the full log when unlocked, else its skeleton (ids and statuses, no texts).</summary>
    public BriefingsState? FullOrSkeleton(IObjectReads store, string objectId) =>
        Unlocked ? Full(store, objectId) : store.Read(objectId, ObjectKind.Briefings, BriefingsState.Parser);
}
