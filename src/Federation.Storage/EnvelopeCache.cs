using Federation.Core.Log;
using Federation.Core.Storage;
using Google.Protobuf;

namespace Federation.Storage;

/// <summary>
/// The serialised envelopes of the events delivered most recently, shared by every peer's
/// batch. A call-out to a thousand networks is one event (its payload carries the whole
/// audience, so it is tens of kilobytes) that each of the thousand deliveries reads: read
/// from the database, copied into an envelope and serialised once instead of a thousand
/// times. The bytes are the stored, signed event, unchanged: each peer still gets exactly
/// what it got before, and the outbox row and the cursor decide what is sent, not this.
/// </summary>
internal sealed class EnvelopeCache
{
    // Enough for the events of a few call-outs in flight at once; a miss only costs a read.
    private const int Capacity = 64;

    // Direct-mapped slots, each holding one immutable entry, read and replaced without a
    // lock. A ConcurrentDictionary here took a lock on every miss and all of its locks for
    // Count on every miss: with every event delivered once (submissions to call-outs with
    // one recipient each) every read is a miss, and the deliveries of several peers queued
    // on those locks (about 3 % of the origin's samples under SubmitStream). A fan-out reads
    // one event many times in a row, which always finds its slot; two events sharing a slot
    // only cost a read, as the dictionary's Clear did.
    private readonly Entry?[] _slots = new Entry?[Capacity];

    // By event id as well as position: an object whose events were deleted and written again
    // (a purged briefing) has other events at the same sequences, and never gets these bytes.
    private sealed record Entry(string ObjectId, ulong Sequence, string EventId, byte[] Bytes);

    /// <summary>
    /// The envelope of the event at <paramref name="objectId"/>#<paramref name="sequence"/>
    /// with <paramref name="eventId"/>, from <paramref name="read"/> (which returns the stored
    /// event, or null if it is gone) when it is not cached. Callers must not change the bytes.
    /// </summary>
    public void Clear() => Array.Clear(_slots);

    public byte[] Get(string objectId, ulong sequence, string eventId, Federation.Contracts.V1.SignatureAlgorithm networkKeyAlgorithm, Func<StoredEvent?> read)
    {
        var slot = (int)((uint)HashCode.Combine(objectId, sequence, eventId) % Capacity);
        if (Volatile.Read(ref _slots[slot]) is { } cached
            && cached.Sequence == sequence && cached.ObjectId == objectId && cached.EventId == eventId)
        {
            return cached.Bytes;
        }
        var stored = read();
        if (stored is null || stored.EventId != eventId)
        {
            // Deleted (or deleted and written again) between the batch's read and this one.
            throw new InvalidOperationException($"Event {objectId}#{sequence} was deleted while its delivery was being read.");
        }
        var bytes = Envelopes.Build(stored, networkKeyAlgorithm).ToByteArray();
        Volatile.Write(ref _slots[slot], new Entry(objectId, sequence, eventId, bytes));
        return bytes;
    }
}
