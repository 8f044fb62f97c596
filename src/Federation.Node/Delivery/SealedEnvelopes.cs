using System.Runtime.CompilerServices;
using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Sealing;
using Federation.Core.Storage;
using Google.Protobuf;

namespace Federation.Node.Delivery;

/// <summary>
/// Opens the participants-only events in a batch before they are sent (docs/adr/0025): they
/// rest with their payload sealed to the storage key and go out as their origin signed them.
/// The same for this node's own submissions that rest sealed (a referral, an unshared
/// report-back, a participants-only action: <see cref="Federation.Domain.EventTiers"/>).
/// A locked node cannot open them, so each waits beside the peer's dead letters with the status
/// <c>WAITING_FOR unlock</c>, as an item waiting for a capability does, and everything else
/// still goes; the unlock puts them back in the queue (<see cref="StorageLock"/>).
/// </summary>
public sealed class SealedEnvelopes(SealedLogs sealedLogs)
{
    /// <summary>What a set-aside item waits for.</summary>
    public const string Unlock = StorageLock.WaitsForUnlock;

    // Envelopes are shared between the peers' batches (one byte[] per event): each that might
    // be sealed is parsed once to learn whether it is. Most cannot be (no marker anywhere in
    // them), which a vectorised search tells without parsing: the call-out hot path pays that only.
    private static readonly ConditionalWeakTable<byte[], StrongBox<bool>> Sealed = new();

    /// <summary>
    /// The batch with its sealed events opened, up to the first that cannot be (the node is
    /// locked); <paramref name="waiting"/> is that one's index, or -1 when all could be.
    /// </summary>
    public IReadOnlyList<OutboxItem> Open(IReadOnlyList<OutboxItem> batch, out int waiting)
    {
        waiting = -1;
        List<OutboxItem>? opened = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var item = batch[i];
            if (item.Kind == OutboxKind.Submission && StorageVault.IsSealed(item.Body))
            {
                // Sealed whole while it waited (EventTiers.SealedAtRest); a dead letter keeps it sealed.
                if (!sealedLogs.TryOpenSubmission(item.Body, out var signed))
                {
                    waiting = i;
                    break;
                }
                opened ??= batch.Take(i).ToList();
                opened.Add(item with { Body = signed, AtRest = item.Body });
                continue;
            }
            if (item.Kind != OutboxKind.Event || !IsSealed(item.Body))
            {
                opened?.Add(item);
                continue;
            }
            var envelope = Envelope.Parser.ParseFrom(item.Body);
            var stored = new StoredEvent(item.ObjectId, envelope.ObjectKind, item.Sequence, envelope.EventId, envelope.Payload.ToByteArray(), []);
            if (!sealedLogs.TryOpen(stored, out var clear))
            {
                waiting = i;
                break;
            }
            envelope.Payload = ByteString.CopyFrom(clear.Payload);
            opened ??= batch.Take(i).ToList();
            opened.Add(item with { Body = envelope.ToByteArray() });
        }
        var result = opened ?? (IReadOnlyList<OutboxItem>)batch;
        return waiting < 0 ? result : result.Take(waiting).ToList();
    }

    private static bool IsSealed(byte[] body) => StorageVault.MayHoldSealed(body) &&
        Sealed.GetValue(body, static b => new StrongBox<bool>(StorageVault.IsSealed(Envelope.Parser.ParseFrom(b).Payload.Span))).Value;
}
