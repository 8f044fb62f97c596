using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Sealing;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Core.Log;

/// <summary>The result of an append: the new state, and whether it was a replay of a recorded submission.</summary>
public sealed record AppendResult(IMessage State, ulong LastSequence, bool Duplicate);

/// <summary>
/// The one write path for objects this node originates: load the state, let the
/// domain decide, then — in one transaction — store the signed events, the new state
/// and an outbox row for every network that must receive them.
/// </summary>
/// <remarks>
/// A participants-only log rests sealed (docs/adr/0025): its state is stored as its clear
/// skeleton, which is what the domain decides on here, and its events' payloads are sealed to
/// the storage key; without <paramref name="sealing"/> (tests of the log alone) they rest as signed.
/// </remarks>
public sealed class OriginLog(IFederationStore store, NodeIdentity identity, OutboxSignal signal, NodeClock clock, SealedLogs? sealing = null)
{
    /// <summary>
    /// The key to sign with now, refused while this node's clock falls outside its
    /// certificate: what it signed would carry a time every peer refuses for good (before a
    /// key certified minutes ago, on a clock that is behind; after the certificate ended).
    /// The write is refused instead, and nothing is acknowledged that could not travel.
    /// </summary>
    private NodeKey SigningKeyNow()
    {
        var key = identity.Current;
        if (key.Checked?.WhyNotValidAt(clock.UtcNow) is { } why)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.ClockSkew,
                $"This node cannot sign now: {why.Replace("it was signed at", "its clock reads", StringComparison.Ordinal)}. Check the node's clock, or, if the certificate has ended, rotate (solnet key rotate).");
        }
        return key;
    }

    public Task<AppendResult> AppendAsync(
        string objectId,
        ObjectKind kind,
        string actor,
        Func<IMessage?, IReadOnlyList<EventBody>> decide,
        string? submissionId = null,
        CancellationToken ct = default,
        SubmissionProof? proof = null) =>
        AppendAsync(objectId, _ => kind, actor, decide, submissionId, ct, proof: proof);

    /// <summary>
    /// Appends to an object whose kind <paramref name="kindOf"/> reads from the object as the
    /// transaction sees it (null if there is none yet); it may throw to refuse the append (an
    /// unknown object). A submission is judged this way, so the object is read once, inside
    /// the transaction, not also before it only to learn its kind and that it exists.
    /// <paramref name="proof"/> is the signed submission the append records, embedded in
    /// the event that records it (issue 16 #6).
    /// </summary>
    public async Task<AppendResult> AppendAsync(
        string objectId,
        Func<StoredObject?, ObjectKind> kindOf,
        string actor,
        Func<IMessage?, IReadOnlyList<EventBody>> decide,
        string? submissionId = null,
        CancellationToken ct = default,
        Action<IStoreTransaction, IMessage>? alongside = null,
        SubmissionProof? proof = null)
    {
        // What the origin keeps beside the event (an issuer-only report-back) commits with it or not at all.
        var result = await store.WriteAsync(tx =>
        {
            var appended = Append(tx, objectId, kindOf, actor, decide, submissionId, proof);
            if (!appended.Duplicate)
            {
                alongside?.Invoke(tx, appended.State);
            }
            return appended;
        }, ct);
        signal.Poke();
        return result;
    }

    /// <summary>
    /// This node's call-outs, recovered from its peers' copies, learn who holds them (<see cref="CallOuts.LearnRecipients"/>),
    /// all in one write: state the issuer keeps beside its log, as it keeps the list when it publishes.
    /// </summary>
    public Task LearnRecipientsAsync(IReadOnlyDictionary<string, List<string>> holdersByObject, CancellationToken ct) =>
        store.WriteAsync(tx =>
        {
            foreach (var (callOutId, holders) in holdersByObject)
            {
                if (tx.GetObject(callOutId) is { Kind: ObjectKind.CallOut } stored && stored.Origin == identity.NodeId
                    && StateCodec.Parse(stored.Kind, stored.State) is CallOutState callOut && CallOuts.LearnRecipients(callOut, holders))
                {
                    tx.PutObject(SealedLogs.ForDisk(stored with { State = callOut.ToByteArray() }));
                }
            }
            return true;
        }, ct);

    /// <summary>The append itself, inside the caller's transaction.</summary>
    private AppendResult Append(IStoreTransaction tx, string objectId, Func<StoredObject?, ObjectKind> kindOf, string actor,
        Func<IMessage?, IReadOnlyList<EventBody>> decide, string? submissionId, SubmissionProof? proof)
    {
        // The object first: on PostgreSQL this read locks its row until commit. Only then is
        // the submission looked up, so a copy of the same submission arriving at the same
        // moment (a sender retrying a call whose answer it lost) waits here and then finds it
        // recorded. Looked up before the lock, both copies would miss it, and the second would
        // be judged against the state the first produced ("already accepted") and refused for
        // good, though it was recorded. SQLite has one writer, so the order is the same there.
        var stored = tx.GetObject(objectId);
        var kind = kindOf(stored);
        if (submissionId is not null && tx.SubmissionSequence(submissionId) is { } seen)
        {
            return new AppendResult(StateCodec.Parse(stored!.Kind, stored.State), seen, Duplicate: true);
        }
        if (stored is not null && stored.Kind != kind)
        {
            throw RuleViolation.NotFound($"{objectId} is not a {Describe(kind)}.");
        }
        var state = stored is null ? null : StateCodec.Parse(stored.Kind, stored.State);
        var bodies = decide(state);

        // A draft is local working state, not part of the log: the log starts when it opens.
        var logState = state is FightState { Status: FightStatus.Draft } ? null : state;
        var before = Audience.Of(logState);
        var firstNew = (stored?.LastSequence ?? 0) + 1;
        var sequence = stored?.LastSequence ?? 0;
        var events = new List<StoredEvent>();
        foreach (var body in bodies)
        {
            var payload = new EventPayload
            {
                EventId = Guid.NewGuid().ToString(),
                ObjectId = objectId,
                ObjectKind = kind,
                Sequence = ++sequence,
                OriginNode = identity.NodeId,
                ActorNode = actor,
                OccurredAt = Timestamp.FromDateTimeOffset(clock.UtcNow),
                Body = body,
            };
            // Only the event that records exactly what was signed carries it: every replica
            // refuses an event whose embedded submission says something else.
            if (proof is not null && Commitments.Mismatch(payload, proof.Submission) is null)
            {
                payload.Submission = proof.Signed.ToByteString();
            }
            logState = EventLog.Apply(logState, payload);
            var bytes = EventLog.AsSigned(payload).ToByteArray();
            // One key for the signature and the certificate stored beside it, even if a
            // rotation lands meanwhile.
            var key = SigningKeyNow();
            var stored1 = new StoredEvent(objectId, kind, sequence, payload.EventId, bytes, key.Sign(SignedKind.Event, bytes), key.Certificate?.ToByteArray());
            tx.InsertEvent(sealing?.ForDisk(stored1) ?? stored1);
            events.Add(stored1);
        }
        var newState = logState ?? throw new InvalidOperationException("The domain decided nothing.");
        tx.PutObject(SealedLogs.ForDisk(new StoredObject(objectId, kind, identity.NodeId, sequence, newState.ToByteArray())));

        if (submissionId is not null)
        {
            tx.RecordSubmission(submissionId, objectId, sequence);
        }
        // The outbox last: on PostgreSQL, writers to one peer's queue take turns until they
        // commit, so the less follows it, the shorter each turn.
        var after = Audience.Of(newState);
        foreach (var peer in before.Union(after))
        {
            // A network that joins the audience now also needs the log so far.
            var from = before.Contains(peer) ? firstNew : 1;
            for (var s = from; s <= sequence; s++)
            {
                tx.Enqueue(peer, OutboxKind.Event, objectId, s, body: null);
            }
        }
        if (newState is FightState fight && logState is not null)
        {
            KeepBriefingMembersInStep(tx, state as FightState, fight);
        }
        return new AppendResult(newState, sequence, Duplicate: false);
    }

    /// <summary>
    /// When a fight's committed networks change, its briefings' member list changes in the
    /// same transaction: a network that commits receives the briefings so far, and one
    /// that leaves is told so and receives nothing more.
    /// </summary>
    private void KeepBriefingMembersInStep(IStoreTransaction tx, FightState? before, FightState after)
    {
        var members = Briefings.MembersOf(after);
        if (before is not null && Briefings.MembersOf(before).SequenceEqual(members))
        {
            return;
        }
        var briefingsId = Briefings.IdOf(after.Id);
        if (tx.GetObject(briefingsId) is { } stored && !BriefingsState.Parser.ParseFrom(stored.State).Purged)
        {
            Append(tx, briefingsId, _ => ObjectKind.Briefings, identity.NodeId, _ => [Briefings.MembersChanged(members)], submissionId: null, proof: null);
        }
    }

    /// <summary>
    /// Opens a fight's participants-only log unless it is open, with the members the fight has
    /// as this transaction reads it. Read before the transaction, the fight could miss an
    /// acceptance committing meanwhile, which finds no log to add its network to: the log would
    /// then open without that network, and refuse its plans for good.
    /// </summary>
    public async Task OpenBriefingsAsync(string fightId, CancellationToken ct)
    {
        await store.WriteAsync(tx =>
        {
            var fight = tx.GetObject(fightId) is { Kind: ObjectKind.Fight } stored
                ? FightState.Parser.ParseFrom(stored.State)
                : throw RuleViolation.NotFound($"No fight {Identifiers.Truncate(fightId)} here.");
            return Append(tx, Briefings.IdOf(fightId), _ => ObjectKind.Briefings, identity.NodeId,
                s => Briefings.OpenIfNeeded(fight, s as BriefingsState), submissionId: null, proof: null);
        }, ct);
        signal.Poke();
    }

    /// <summary>
    /// Queues an object's latest event again for <paramref name="peers"/>. A receiver
    /// that already has it counts a duplicate; one that lost it, or missed what came
    /// before, fills the gap from this node.
    /// </summary>
    public async Task ResendLatestAsync(string objectId, IReadOnlyCollection<string> peers, CancellationToken ct)
    {
        await store.WriteAsync(tx =>
        {
            var stored = tx.GetObject(objectId);
            if (stored is null || stored.LastSequence == 0)
            {
                return false;
            }
            foreach (var peer in peers)
            {
                tx.Enqueue(peer, OutboxKind.Event, objectId, stored.LastSequence, body: null);
            }
            return true;
        }, ct);
        signal.Poke();
    }

    /// <summary>Saves a draft fight: local working state, never federated, no events.</summary>
    public Task<FightState> SaveDraftAsync(string fightId, Func<FightState?, FightState> edit, CancellationToken ct = default) =>
        store.WriteAsync(tx =>
        {
            var stored = tx.GetObject(fightId);
            var current = stored is null ? null : StateCodec.Parse(stored.Kind, stored.State) as FightState
                ?? throw RuleViolation.NotFound($"No fight {fightId} here.");
            var draft = edit(current);
            tx.PutObject(new StoredObject(fightId, ObjectKind.Fight, identity.NodeId, 0, draft.ToByteArray()));
            return draft;
        }, ct);

    /// <summary>Queues a signed submission for the origin of an object, in the outbox like everything else.</summary>
    public async Task<SubmissionReceipt> SubmitAsync(string objectId, SubmissionPayload submission, CancellationToken ct = default)
    {
        var origin = Identifiers.OriginOf(objectId);
        submission.SubmissionId = Guid.NewGuid().ToString();
        submission.ObjectId = objectId;
        submission.SubmitterNode = identity.NodeId;
        submission.SubmittedAt = Timestamp.FromDateTimeOffset(clock.UtcNow);
        var bytes = submission.ToByteString();
        var key = SigningKeyNow();
        var signed = new SignedSubmission { Payload = bytes, Signature = ByteString.CopyFrom(key.Sign(SignedKind.Submission, bytes.Span)), KeyId = identity.NodeId,
            Algorithm = key.Algorithm, Certificate = key.Certificate };
        // A referral, an unshared report-back or a participants-only action waits sealed (issue 24);
        // the sender's copy of the participants-only log (a skeleton) tells where an action belongs.
        var participants = sealing is null || !Fights.IsAction(submission) ? null
            : store.Read(Briefings.IdOf(objectId), ObjectKind.Briefings, BriefingsState.Parser);
        var body = sealing?.SubmissionForDisk(submission, participants, signed.ToByteArray()) ?? signed.ToByteArray();
        await store.WriteAsync(tx =>
        {
            tx.Enqueue(origin, OutboxKind.Submission, objectId, 0, body);
            return true;
        }, ct);
        signal.Poke();
        return new SubmissionReceipt { SubmissionId = submission.SubmissionId, OriginNode = origin };
    }

    /// <summary>
    /// This network revoked a key that signed some of its own events after the time it names
    /// (issue 16 #3): a server restored from a backup signs with the taken key until the
    /// operator rotates. Those events are this node's own, so it signs the same bytes again
    /// with the key it uses now, and peers that refuse the old signatures fetch these.
    /// Returns how many were signed again.
    /// </summary>
    public async Task<int> ResignAsync(CheckedRevocation revocation, CancellationToken ct = default)
    {
        var count = 0;
        foreach (var o in store.OriginObjects(identity.NodeId))
        {
            // A sealed log's events are signed over their clear bytes; one this node cannot
            // open now (locked) is left as it is, and refused by peers until signed again.
            var affected = store.LoadEvents(o.ObjectId, 0, int.MaxValue)
                .Select(e => sealing is null ? e : sealing.TryOpen(e, out var opened) ? opened : null)
                .OfType<StoredEvent>()
                .Where(e => SignedAfterCompromise(e, revocation))
                .ToList();
            if (affected.Count == 0)
            {
                continue;
            }
            var key = identity.Current;
            await store.WriteAsync(tx =>
            {
                foreach (var e in affected)
                {
                    tx.ResignEvent(e.ObjectId, e.Sequence, key.Sign(SignedKind.Event, e.Payload), key.Certificate?.ToByteArray());
                }
                return true;
            }, ct);
            count += affected.Count;
        }
        if (count > 0)
        {
            store.ForgetBuiltEnvelopes();
        }
        return count;
    }

    /// <summary>Whether an event (its payload opened) was signed by the revoked key at or after the time the revocation names.</summary>
    public static bool SignedAfterCompromise(StoredEvent e, CheckedRevocation revocation)
    {
        if (e.Signer is null)
        {
            return false;
        }
        var signer = NetworkSignatures.Check(CertifiedKey.Parser.ParseFrom(e.Signer));
        return signer.KeyId == revocation.KeyId
            && EventPayload.Parser.ParseFrom(e.Payload).OccurredAt is { } at && at.ToDateTimeOffset() >= revocation.CompromisedSince;
    }

    private static string Describe(ObjectKind kind) => kind == ObjectKind.CallOut ? "call-out" : "fight";
}
