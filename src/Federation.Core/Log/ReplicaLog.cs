using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Sealing;
using Federation.Core.Storage;
using Federation.Core.Telemetry;
using Federation.Domain;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace Federation.Core.Log;

public sealed record ReceiveResult(int Applied, int Duplicates, int Held, IReadOnlyList<string> Gaps);

/// <summary>
/// The one write path for events from other origins: applied in sequence order,
/// exactly once. An event ahead of a gap is held until the gap is filled from the
/// origin; a replayed event changes nothing.
/// </summary>
public sealed class ReplicaLog(IFederationStore store, NodeIdentity identity, PeerKeys keys, NodeClock clock, NodeTelemetry telemetry, IOptions<NodeOptions> options, SealedLogs sealing)
{
    /// <summary>
    /// Checks a received batch before anything is stored: a bad envelope refuses the whole
    /// batch. Throws a <see cref="RuleViolation"/> naming the first envelope refused.
    /// </summary>
    /// <param name="own">
    /// The batch is this node's own log coming back from a peer's copy (issue 16 #4): only its
    /// own objects, checked against its own network key and the revocations it holds.
    /// </param>
    public IReadOnlyList<VerifiedEvent> Verify(IReadOnlyCollection<Envelope> envelopes, bool own = false)
    {
        foreach (var envelope in envelopes)
        {
            Replicas.Require(envelope.ObjectId, identity.NodeId, own);
        }
        if (own && !keys.Knows(identity.NodeId))
        {
            // Its own network key is never a peer's row; nothing else takes a copy of this
            // node's own log (Replicas.RequireOthers), so it is pinned here for this alone.
            keys.Pin(identity.NodeId, identity.PublicKey);
        }
        // Once per origin per batch, the origin's row in the shared store decides whether its
        // key is trusted: a key another replica has revoked must not verify relayed events here.
        foreach (var origin in envelopes.Select(e => e.OriginNode).Where(o => Identifiers.IsNodeId(o) && !(own && o == identity.NodeId)).Distinct())
        {
            keys.Sync(origin, store.GetPeer(origin));
        }
        var now = clock.UtcNow;
        if (envelopes.Count < VerifyInParallelFrom)
        {
            return envelopes.Select(e => Envelopes.Verify(e, keys, now)).ToList();
        }
        // A page of catch-up is hundreds of independent signature checks: on every core
        // (issue 20 #2). The refusal thrown is the first in the batch's order, as it would be
        // one by one, so what an operator reads does not depend on the scheduling.
        var list = envelopes as IReadOnlyList<Envelope> ?? envelopes.ToList();
        var verified = new VerifiedEvent[list.Count];
        var refused = new Exception?[list.Count];
        Parallel.For(0, list.Count, i =>
        {
            try
            {
                verified[i] = Envelopes.Verify(list[i], keys, now);
            }
            catch (Exception e)
            {
                refused[i] = e;
            }
        });
        if (Array.Find(refused, e => e is not null) is { } first)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
        return verified;
    }

    /// <summary>Below this many envelopes a batch is checked on the calling thread: a push of a few events gains nothing from the pool.</summary>
    private const int VerifyInParallelFrom = 16;

    /// <summary>Applies a verified batch in one transaction: all of it or, on a refusal, none of it.</summary>
    public async Task<ReceiveResult> ReceiveAsync(IReadOnlyList<VerifiedEvent> batch, CancellationToken ct = default, bool own = false)
    {
        using var span = NodeTelemetry.StartApply(batch.Count);
        try
        {
            var result = await ApplyAsync(batch, own, ct);
            telemetry.Applied(result.Applied, result.Duplicates);
            return result;
        }
        catch (RuleViolation refused)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, refused.Kind.ToString());
            throw;
        }
    }

    private async Task<ReceiveResult> ApplyAsync(IReadOnlyList<VerifiedEvent> batch, bool own, CancellationToken ct)
    {
        var emptied = false;
        var result = await store.WriteAsync(tx =>
        {
            int applied = 0, duplicates = 0, held = 0;
            var membershipChanged = new HashSet<string>();
            var gaps = new HashSet<string>();
            var heldOf = new Dictionary<string, long>();
            // A batch is mostly runs of one object's consecutive events (a page of catch-up is
            // one object's): its state is read and parsed once per run, folded in memory, and
            // written once when the run ends, not once per event (issue 20 #2).
            Run? run = null;
            foreach (var v in batch)
            {
                var e = v.Payload;
                Replicas.Require(e.ObjectId, identity.NodeId, own);
                if (run?.ObjectId != e.ObjectId)
                {
                    run?.Write(tx);
                    run = new Run(e.ObjectId, tx.GetObject(e.ObjectId));
                }
                var last = run.Last;
                if (e.Sequence <= last)
                {
                    // A missing row is a purged one: the position is kept, the content is gone.
                    if (tx.GetEventId(e.ObjectId, e.Sequence) is { } recorded && recorded != e.EventId)
                    {
                        // Two different signed events with one sequence number: the origin
                        // contradicts itself. Keep the first; tell the sender plainly.
                        throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence,
                            $"Event {e.Sequence} of {e.ObjectId} conflicts with the event already recorded at that position.");
                    }
                    duplicates++;
                }
                else if (e.Sequence == last + 1)
                {
                    applied += ApplyWithHeld(tx, run, v, keys, clock.UtcNow, membershipChanged, own, out var heldLeft);
                    if (heldLeft)
                    {
                        gaps.Add(e.ObjectId);
                    }
                    else
                    {
                        gaps.Remove(e.ObjectId);
                    }
                }
                else
                {
                    var origin = e.OriginNode;
                    var already = heldOf.TryGetValue(origin, out var n) ? n : tx.CountHeldOf(origin);
                    // Past the quota an early event is not kept: the gap is fetched from the
                    // origin in order, and that fetch brings this event again.
                    if (already < options.Value.MaxHeldEventsPerPeer)
                    {
                        tx.Hold(e.ObjectId, e.Sequence, sealing.HeldForDisk(e.ObjectKind, v.Envelope.ToByteArray()));
                        held++;
                        already++;
                    }
                    heldOf[origin] = already;
                    gaps.Add(e.ObjectId);
                }
            }
            run?.Write(tx);
            foreach (var id in membershipChanged)
            {
                var (refetch, purged) = FollowMembership(tx, id);
                emptied |= purged;
                if (refetch)
                {
                    gaps.Add(id);
                }
            }
            return new ReceiveResult(applied, duplicates, held, gaps.ToArray());
        }, ct);
        if (emptied)
        {
            // This node left a fight's participants: the deleted briefings and plans must not
            // linger as old page images in the write-ahead log (issue 15 #2).
            await store.CheckpointAsync();
        }
        return result;
    }

    /// <summary>
    /// A revocation arrived after this node took events its key signed from the time it
    /// names (issue 16 #3): from the first such event of each of the network's objects on,
    /// the log is moved into quarantine for the operator, and the object is folded again
    /// from what remains, as if they had never come. What the origin signed with its
    /// rightful key at those positions is then fetched by catch-up. Returns the objects changed.
    /// </summary>
    public async Task<IReadOnlyList<string>> QuarantineAsync(CheckedRevocation revocation, CancellationToken ct = default)
    {
        var changed = new List<string>();
        foreach (var o in store.OriginObjects(revocation.NetworkId))
        {
            var stored = store.LoadEvents(o.ObjectId, 0, int.MaxValue);
            var events = stored.Select(e => sealing.TryOpen(e, out var opened) ? opened : null).OfType<StoredEvent>().ToList();
            // A sealed log this node cannot open now (locked) is looked at again with the
            // next revocation it hears; its events are not applied twice meanwhile.
            if (events.Count < stored.Count || events.FirstOrDefault(e => OriginLog.SignedAfterCompromise(e, revocation)) is not { } first)
            {
                continue;
            }
            var reason = $"signed by node key {NetworkKey.ShortFingerprintOf(revocation.KeyId)} at or after {revocation.CompromisedSince:u}, when its network says it was compromised";
            await store.WriteAsync(tx =>
            {
                var current = tx.GetObject(o.ObjectId);
                tx.QuarantineEventsFrom(o.ObjectId, first.Sequence, reason);
                IMessage? state = null;
                foreach (var e in events.Where(e => e.Sequence < first.Sequence))
                {
                    state = EventLog.Apply(state, EventPayload.Parser.ParseFrom(e.Payload));
                }
                if (state is null || current is null)
                {
                    tx.DeleteObject(o.ObjectId);
                }
                else
                {
                    tx.PutObject(SealedLogs.ForDisk(current with { LastSequence = first.Sequence - 1, State = state.ToByteArray() }));
                }
                return true;
            }, ct);
            changed.Add(o.ObjectId);
        }
        return changed;
    }

    /// <summary>
    /// Once a batch is in, acts on this node's final membership of a briefings log (not on
    /// each event: replaying history passes through old comings and goings). Out of it:
    /// keep nothing but the position. Back in after having emptied its copy: drop the
    /// copy and fetch the log afresh (Refetch). Purged says a copy was just emptied.
    /// </summary>
    private (bool Refetch, bool Purged) FollowMembership(IStoreTransaction tx, string objectId)
    {
        if (tx.GetObject(objectId) is not { } stored)
        {
            return (false, false);
        }
        var b = BriefingsState.Parser.ParseFrom(stored.State);
        var member = b.Members.Contains(identity.NodeId);
        if (!member && !b.Purged)
        {
            tx.DeleteEvents(objectId);
            tx.PutObject(stored with { State = Briefings.Purged(b).ToByteArray() });
            return (false, true);
        }
        if (member && b.Purged)
        {
            tx.DeleteObject(objectId);
            tx.DropHeldUpTo(objectId, long.MaxValue);
            return (true, false);
        }
        return (false, false);
    }

    /// <summary>
    /// One object's events being applied in a batch: its stored row as read, and its state
    /// folded so far. The row is written once, by <see cref="Write"/>, when the run ends.
    /// </summary>
    private sealed class Run(string objectId, StoredObject? stored)
    {
        public string ObjectId { get; } = objectId;
        public ulong Last { get; private set; } = stored?.LastSequence ?? 0;
        private EventPayload? _lastApplied;

        public IMessage? State { get; private set; } = stored is null ? null : StateCodec.Parse(stored.Kind, stored.State);

        public void Applied(EventPayload e, IMessage state)
        {
            State = state;
            _lastApplied = e;
            Last = e.Sequence;
        }

        public void Write(IStoreTransaction tx)
        {
            if (_lastApplied is { } e && State is not null)
            {
                tx.PutObject(SealedLogs.ForDisk(new StoredObject(e.ObjectId, e.ObjectKind, e.OriginNode, e.Sequence, State.ToByteArray())));
            }
        }
    }

    /// <remarks>
    /// A held event of a sealed log that this node cannot open (it locked since holding it) is
    /// held again as it was, and <paramref name="heldLeft"/> says its gap is still open: the
    /// origin's copy fills it, once unlocked or at once by a fetch.
    /// </remarks>
    /// <param name="own">This node's own log coming back from a peer's copy: the origin is not a member of its own briefings, and keeps them.</param>
    private int ApplyWithHeld(IStoreTransaction tx, Run run, VerifiedEvent first, PeerKeys keys, DateTimeOffset now, ISet<string> membershipChanged,
        bool own, out bool heldLeft)
    {
        heldLeft = false;
        var count = 0;
        var next = first;
        while (next is not null)
        {
            var e = next.Payload;
            // Onto the run's state itself: a refusal throws the whole transaction away.
            var state = EventLog.ApplyOnto(run.State, e);
            run.Applied(e, state);
            // A purged briefings log keeps its position, never its text.
            if (state is not BriefingsState { Purged: true })
            {
                tx.InsertEvent(sealing.ForDisk(new StoredEvent(e.ObjectId, e.ObjectKind, e.Sequence, e.EventId, next.Envelope.Payload.ToByteArray(),
                    next.Envelope.Signature.ToByteArray(), next.Envelope.Certificate?.ToByteArray())));
            }
            count++;
            if (e.Body.KindCase == EventBody.KindOneofCase.BriefingMembersChanged && !own)
            {
                membershipChanged.Add(e.ObjectId);
            }
            if (own && !e.Submission.IsEmpty)
            {
                // The origin records each submission once: a submitter retrying one it made
                // before the server was lost must find it recorded, not record it twice.
                var submitted = SubmissionPayload.Parser.ParseFrom(SignedSubmission.Parser.ParseFrom(e.Submission).Payload);
                if (tx.SubmissionSequence(submitted.SubmissionId) is null)
                {
                    tx.RecordSubmission(submitted.SubmissionId, e.ObjectId, e.Sequence);
                }
            }
            var heldBytes = tx.TakeHeld(e.ObjectId, e.Sequence + 1);
            next = null;
            if (heldBytes is not null && sealing.TryOpenHeld(heldBytes, out var envelope))
            {
                next = Envelopes.Verify(Envelope.Parser.ParseFrom(envelope), keys, now);
            }
            else if (heldBytes is not null)
            {
                tx.Hold(e.ObjectId, e.Sequence + 1, heldBytes);
                heldLeft = true;
            }
        }
        return count;
    }
}
