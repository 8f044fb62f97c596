using System.Collections.Concurrent;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Microsoft.Extensions.Options;

namespace Federation.Storage.Tests;

public sealed class SqliteStoreContract() : StoreContract(new SqliteDatabase());

public sealed class PostgresStoreContract() : StoreContract(new PostgresDatabase());

/// <summary>
/// What every store must do, run against each engine. The concurrency tests open the
/// database twice, as two replicas of one node would, and write from both at once.
/// </summary>
public abstract class StoreContract : IDisposable
{
    private readonly ITestDatabase _db;
    private readonly List<IFederationStore> _opened = [];

    protected StoreContract(ITestDatabase db)
    {
        _db = db;
        Store = Open();
    }

    protected IFederationStore Store { get; }

    /// <summary>Another handle on the same database: another replica.</summary>
    protected IFederationStore Open()
    {
        var s = _db.Open();
        _opened.Add(s);
        return s;
    }

    public void Dispose()
    {
        foreach (var s in _opened)
        {
            s.Dispose();
        }
        _db.Dispose();
        GC.SuppressFinalize(this);
    }

    private static readonly string Origin = new('a', 32);
    private static readonly string PeerB = new('b', 32);
    private static readonly string PeerC = new('c', 32);

    private static string NewId() => Identifiers.NewObjectId(Origin);

    private static StoredEvent Event(string objectId, ulong seq, ObjectKind kind = ObjectKind.Fight) =>
        new(objectId, kind, seq, Guid.NewGuid().ToString(), [1, 2, (byte)seq], [9, 9]);

    /// <summary>The origin's append, as OriginLog does it: read the object, add the next event, store the state.</summary>
    private static ulong Append(IStoreTransaction tx, string objectId, ObjectKind kind = ObjectKind.Fight)
    {
        var last = tx.GetObject(objectId)?.LastSequence ?? 0;
        var seq = last + 1;
        tx.InsertEvent(Event(objectId, seq, kind));
        tx.PutObject(new StoredObject(objectId, kind, Origin, seq, [(byte)seq]));
        return seq;
    }

    private static PeerRecord Peer(string id, string state = "active") =>
        new(id, "peer-" + id[..1], "http://127.0.0.1:1", [1, 2, 3], state, DateTimeOffset.UtcNow);

    // ---- Objects and events ------------------------------------------------------------

    [Fact]
    public async Task ObjectsAndEventsRoundTrip()
    {
        var id = NewId();
        await Store.WriteAsync(tx => Append(tx, id) + Append(tx, id));

        var o = Store.GetObject(id)!;
        Assert.Equal((ObjectKind.Fight, Origin, 2ul), (o.Kind, o.Origin, o.LastSequence));
        Assert.Equal([2], o.State);
        var events = Store.LoadEvents(id, 0, 10);
        Assert.Equal([1ul, 2ul], events.Select(e => e.Sequence));
        Assert.Equal([1, 2, 2], events[1].Payload);
        Assert.Equal([2ul], Store.LoadEvents(id, 1, 10).Select(e => e.Sequence));
        Assert.Single(Store.LoadEvents(id, 0, 1));
        Assert.Equal(events[0].EventId, await Store.WriteAsync(tx => tx.GetEventId(id, 1)));
        Assert.Contains(Store.ListObjects(ObjectKind.Fight), x => x.ObjectId == id);
        Assert.DoesNotContain(Store.ListObjects(ObjectKind.CallOut), x => x.ObjectId == id);

        Assert.Equal(2, await Store.WriteAsync(tx => tx.DeleteEvents(id)));
        await Store.WriteAsync(tx => { tx.DeleteObject(id); return true; });
        Assert.Null(Store.GetObject(id));
    }

    [Fact]
    public async Task AFailedWriteLeavesNothingBehind()
    {
        var id = NewId();
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.WriteAsync<bool>(tx =>
        {
            Append(tx, id);
            tx.Enqueue(PeerB, OutboxKind.Event, id, 1, null);
            throw new InvalidOperationException("the domain refused");
        }));
        Assert.Null(Store.GetObject(id));
        Assert.Equal(0, Store.Count("events"));
        Assert.Equal(0, Store.Count("outbox"));
    }

    [Fact]
    public async Task ASequenceNumberIsTakenOnce()
    {
        var id = NewId();
        await Store.WriteAsync(tx => Append(tx, id));
        await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteAsync(tx => { tx.InsertEvent(Event(id, 1)); return true; }));
        Assert.Single(Store.LoadEvents(id, 0, 10));
    }

    // ---- Group commit: writes that queue up share one transaction (adr/0011, adr/0031) ----

    [Fact]
    public async Task AFailingWriteIsUndoneAloneAndTheOthersInItsGroupCommit()
    {
        var ids = Enumerable.Range(0, 300).Select(_ => NewId()).ToArray();
        // Every tenth write is refused after its statements ran (its outbox lock taken);
        // every tenth but five has a statement the database refuses (a NOT NULL column),
        // which on PostgreSQL breaks the transaction unless the write has a savepoint.
        var writes = ids.Select((id, i) => Task.Run(() => Store.WriteAsync(tx =>
        {
            Append(tx, id);
            tx.Enqueue(PeerB, OutboxKind.Event, id, 1, null);
            if (i % 10 == 0)
            {
                throw new InvalidOperationException($"write {i} refused");
            }
            if (i % 10 == 5)
            {
                tx.InsertEvent(Event(id, 2) with { Payload = null! });
            }
            return i;
        }))).ToArray();
        for (var i = 0; i < writes.Length; i++)
        {
            if (i % 10 == 0)
            {
                var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => writes[i]);
                Assert.Equal($"write {i} refused", ex.Message);
            }
            else if (i % 10 == 5)
            {
                await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => writes[i]);
            }
            else
            {
                Assert.Equal(i, await writes[i]);
            }
            Assert.Equal(i % 5 != 0, Store.GetObject(ids[i]) is not null);
        }
        Assert.Equal(240, Store.Count("events"));
        Assert.Equal(240, Store.Count("outbox"));
    }

    [Fact]
    public async Task WritesInOneGroupSeeTheWritesBeforeThem()
    {
        var id = NewId();
        await Store.WriteAsync(tx => { tx.PutObject(new StoredObject(id, ObjectKind.CallOut, Origin, 0, [])); return true; });
        // Each write counts up from what it reads: a lost update would show as a short count.
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => Store.WriteAsync(tx =>
        {
            var seen = tx.GetObject(id)!;
            tx.PutObject(seen with { LastSequence = seen.LastSequence + 1 });
            return true;
        }))));
        Assert.Equal(200UL, Store.GetObject(id)!.LastSequence);
    }

    [Fact]
    public async Task AWriteTakenByAnotherCallersGroupReturnsWithoutRunningTheNextGroup()
    {
        // Each write's work waits at its gate, when it has one, so the test decides when each group runs on.
        var started = new ConcurrentDictionary<string, TaskCompletionSource>();
        var gates = new ConcurrentDictionary<string, ManualResetEventSlim>();
        Task<bool> Write(string name, bool gated)
        {
            var gate = gates[name] = new ManualResetEventSlim(!gated);
            var run = started[name] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return Task.Run(() => Store.WriteAsync(tx =>
            {
                run.TrySetResult();
                gate.Wait();
                Append(tx, NewId());
                return true;
            }));
        }
        var waited = TimeSpan.FromSeconds(30);
        try
        {
            await GatedGroups();
        }
        finally
        {
            foreach (var gate in gates.Values)
            {
                gate.Set(); // a failed run leaves no work waiting forever
            }
        }

        async Task GatedGroups()
        {
            var a = Write("a", gated: true);           // the first group: a, held at its gate
            await started["a"].Task.WaitAsync(waited);
            var x = Write("x", gated: true);           // x's caller waits for the writer's turn,
            await Task.Delay(200);
            var b = Write("b", gated: false);          // and b's caller behind it
            await Task.Delay(200);
            gates["a"].Set();                          // a commits; x's caller runs the next group: x, then b
            await started["x"].Task.WaitAsync(waited);
            var c = Write("c", gated: true);           // c is queued after that group began
            await Task.Delay(200);
            gates["x"].Set();                          // x and b commit

            // b's caller, next in turn, must not run c's group: c is held at its gate, and b's
            // caller would wait there with it, its own write long committed.
            Assert.True(await b.WaitAsync(waited));
            gates["c"].Set();
            Assert.All(await Task.WhenAll(a, x, c), Assert.True);
            Assert.Equal(4, Store.Count("events"));
        }
    }

    [Fact]
    public async Task OriginObjectsArePagedInIdOrderWithoutDrafts()
    {
        var ids = Enumerable.Range(0, 5).Select(_ => NewId()).Order(StringComparer.Ordinal).ToList();
        foreach (var id in ids)
        {
            await Store.WriteAsync(tx => Append(tx, id));
        }
        var draft = NewId();
        await Store.WriteAsync(tx => { tx.PutObject(new StoredObject(draft, ObjectKind.Fight, Origin, 0, [0])); return true; });
        await Store.WriteAsync(tx => { tx.PutObject(new StoredObject(Identifiers.NewObjectId(PeerB), ObjectKind.Fight, PeerB, 1, [0])); return true; });

        var first = Store.OriginObjectsAfter(Origin, "", 3);
        var second = Store.OriginObjectsAfter(Origin, first[^1].ObjectId, 3);
        Assert.Equal(ids, first.Concat(second).Select(o => o.ObjectId));
    }

    [Fact]
    public async Task HeldEventsWaitForTheirGap()
    {
        var id = NewId();
        await Store.WriteAsync(tx =>
        {
            tx.Hold(id, 3, [3]);
            tx.Hold(id, 3, [3]); // the same early event twice: kept once
            tx.Hold(id, 4, [4]);
            tx.Hold(id, 5, [5]);
            return true;
        });
        Assert.Equal([id], Store.ObjectsWithHeldEvents());
        Assert.Equal([3], await Store.WriteAsync(tx => tx.TakeHeld(id, 3)));
        Assert.Null(await Store.WriteAsync(tx => tx.TakeHeld(id, 3)));
        await Store.WriteAsync(tx => { tx.DropHeldUpTo(id, 4); return true; });
        Assert.Null(await Store.WriteAsync(tx => tx.TakeHeld(id, 4)));
        Assert.Equal([5], await Store.WriteAsync(tx => tx.TakeHeld(id, 5)));
        Assert.Empty(Store.ObjectsWithHeldEvents());
    }

    [Fact]
    public async Task LocalDetailsAndReportsStayLocalAndArePurged()
    {
        var id = NewId();
        await Store.WriteAsync(tx =>
        {
            tx.PutLocalDetails(id, [1]);
            tx.PutLocalDetails(id, [2]);
            tx.InsertReport(id, PeerB, [10]);
            tx.InsertReport(id, PeerC, [20]);
            return true;
        });
        Assert.Equal([2], Store.GetLocalDetails(id));
        Assert.Equal([[10], [20]], Store.ListReports(id));
        Assert.True(await Store.WriteAsync(tx => tx.DeleteLocalDetails(id)));
        Assert.Equal(2, await Store.WriteAsync(tx => tx.DeleteReports(id)));
        await Store.CheckpointAsync();
        Assert.Null(Store.GetLocalDetails(id));
        Assert.Empty(Store.ListReports(id));
    }

    [Fact]
    public async Task AValueIsSealedInPlaceOnlyIfItIsStillTheOneRead()
    {
        var id = NewId();
        await Store.WriteAsync(tx =>
        {
            tx.PutLocalDetails(id, [1]);
            tx.InsertReport(id, PeerB, [10]);
            return true;
        });
        // The newest report holding [10] is this test's: ids only grow.
        var report = Store.AllReports().Last(r => r.Value.SequenceEqual(new byte[] { 10 }));
        Assert.Contains(Store.AllLocalDetails(), v => v.Key == id && v.Value.SequenceEqual(new byte[] { 1 }));

        // A write between the read and the swap wins: the stale swap changes nothing.
        await Store.WriteAsync(tx => { tx.PutLocalDetails(id, [2]); return true; });
        Assert.False(await Store.WriteAsync(tx => tx.SealLocalDetails(id, [1], [9, 9])));
        Assert.Equal([2], Store.GetLocalDetails(id));

        Assert.True(await Store.WriteAsync(tx => tx.SealLocalDetails(id, [2], [9, 9])));
        Assert.True(await Store.WriteAsync(tx => tx.SealReport(report.Key, [10], [8, 8])));
        Assert.False(await Store.WriteAsync(tx => tx.SealReport(report.Key, [10], [7, 7])));
        Assert.Equal([9, 9], Store.GetLocalDetails(id));
        Assert.Equal([[8, 8]], Store.ListReports(id));
    }

    [Fact]
    public async Task AWaitingSubmissionIsSealedInPlaceOnlyIfItIsStillTheOneRead()
    {
        var id = NewId();
        await Store.WriteAsync(tx =>
        {
            tx.Enqueue(PeerB, OutboxKind.Submission, id, 0, [3]);
            return true;
        });
        var waiting = Store.WaitingSubmissions().Single(w => w.ObjectId == id);
        Assert.False(waiting.DeadLetter);
        Assert.True(await Store.WriteAsync(tx => tx.SealWaitingSubmission(waiting, [8, 8])));
        // Swapped once: a second swap from the value read first finds it changed.
        Assert.False(await Store.WriteAsync(tx => tx.SealWaitingSubmission(waiting, [7, 7])));
        Assert.Equal([8, 8], Store.WaitingSubmissions().Single(w => w.ObjectId == id).Body);
        // Parked, it keeps its sealed body, and is sealed in place there too.
        // As delivery parks it: the body it sent opened, the body it rests as beside it.
        var sent = new OutboxItem(waiting.Id, PeerB, OutboxKind.Submission, id, 0, [5], AtRest: [8, 8]);
        await Store.WriteAsync(tx => { tx.DeadLetter(sent, "PermissionDenied", "refused"); return true; });
        var parked = Store.WaitingSubmissions().Single(w => w.ObjectId == id);
        Assert.True(parked.DeadLetter);
        Assert.Equal([8, 8], parked.Body);
        Assert.True(await Store.WriteAsync(tx => tx.SealWaitingSubmission(parked with { Body = [8, 8] }, [6, 6])));
        Assert.Equal([6, 6], Store.WaitingSubmissions().Single(w => w.ObjectId == id).Body);
    }

    // ---- Peers, tokens, audit, submissions ----------------------------------------------

    [Fact]
    public async Task PeersTheirStatesAndRegions()
    {
        await Store.WriteAsync(tx => { tx.UpsertPeer(Peer(PeerB, "pending")); tx.UpsertPeer(Peer(PeerC)); return true; });
        Assert.Equal([PeerB, PeerC], Store.ListPeers().Select(p => p.NodeId));
        Assert.False(await Store.WriteAsync(tx => tx.SetPeerState(PeerC, "active", onlyFrom: "pending")));
        Assert.True(await Store.WriteAsync(tx => tx.SetPeerState(PeerB, "active", onlyFrom: "pending")));
        Assert.True(await Store.WriteAsync(tx => tx.SetPeerState(PeerC, "suspended", onlyFrom: null)));
        await Store.WriteAsync(tx => { tx.SetPeerRegion(PeerB, "Leeds"); return true; });
        Assert.Equal(("active", "suspended"), (Store.GetPeer(PeerB)!.State, Store.GetPeer(PeerC)!.State));
        Assert.Equal([1, 2, 3], Store.GetPeer(PeerB)!.PublicKey);
        Assert.Contains(new PeerRegion(PeerB, "Leeds"), Store.PeerRegions());
        Assert.Null(Store.GetPeer(new string('d', 32)));
    }

    /// <summary>Issue 20 #5: the roster is read from the database once, then from memory, and again as soon as a write through this store changes it.</summary>
    [Fact]
    public async Task ThePeerRosterIsReadOnceAndAgainOnlyWhenAWriteHereChangesIt()
    {
        var store = (SqlStore)Store;
        await Store.WriteAsync(tx => { tx.UpsertPeer(Peer(PeerB)); return true; });
        Assert.Equal("active", Store.GetPeer(PeerB)!.State);
        var (reads, databaseReads) = (store.PeerRosterReads, store.DatabaseReads);
        for (var i = 0; i < 50; i++)
        {
            Assert.NotNull(Store.GetPeer(PeerB));
            Assert.Null(Store.PeerProtocol(PeerB));
            Assert.Empty(Store.Revocations());
            Assert.Single(Store.ListPeers());
            Assert.Single(Store.PeerRegions());
            Assert.Empty(Store.PeerProtocols());
        }
        Assert.Equal((reads, databaseReads), (store.PeerRosterReads, store.DatabaseReads));

        Assert.True(await Store.WriteAsync(tx => tx.SetPeerState(PeerB, "suspended", onlyFrom: null)));
        Assert.Equal("suspended", Store.GetPeer(PeerB)!.State); // at once, not at the next recheck
        // Once (twice if the recheck caught the commit before the store forgot the roster).
        Assert.InRange(store.PeerRosterReads - reads, 1, 2);

        reads = store.PeerRosterReads;
        Assert.False(await Store.WriteAsync(tx => tx.SetPeerState(PeerB, "active", onlyFrom: "pending"))); // changes nothing
        Assert.Equal("suspended", Store.GetPeer(PeerB)!.State);
        Assert.Equal(reads, store.PeerRosterReads);
    }

    /// <summary>Issue 20 #5: a peer this store's roster does not hold makes it check the database at once, so one added at another replica is known.</summary>
    [Fact]
    public async Task APeerAddedThroughAnotherReplicaIsKnownHereAtItsFirstLookUp()
    {
        await Store.WriteAsync(tx => { tx.UpsertPeer(Peer(PeerB)); return true; });
        var other = Open();
        Assert.Single(other.ListPeers()); // the other replica now holds the roster, without PeerC

        await Store.WriteAsync(tx => { tx.UpsertPeer(Peer(PeerC)); return true; });

        Assert.Equal("active", other.GetPeer(PeerC)?.State);
    }

    /// <summary>
    /// Issue 20 #5: another replica's suspension and key revocation reach this store's roster
    /// (held in memory) without a write here, within its recheck.
    /// </summary>
    [Fact]
    public async Task APeerSuspendedAndAKeyRevokedThroughAnotherReplicaAreSeenHereWithinTheRecheck()
    {
        await Store.WriteAsync(tx => { tx.UpsertPeer(Peer(PeerB)); return true; });
        var other = Open();
        Assert.Equal("active", other.GetPeer(PeerB)!.State); // the other replica now holds the roster
        Assert.Empty(other.Revocations());
        var told = new TaskCompletionSource<IReadOnlyList<byte[]>>(TaskCreationOptions.RunContinuationsAsynchronously);
        other.RevocationsRead += revocations => told.TrySetResult(revocations);

        await Store.WriteAsync(tx =>
        {
            tx.SetPeerState(PeerB, "suspended", onlyFrom: null);
            tx.SaveRevocation(PeerB, "key-1", DateTimeOffset.UtcNow, [4, 2]);
            return true;
        });

        var until = DateTime.UtcNow + PeerRosterCache.RecheckInterval * 10;
        while (other.GetPeer(PeerB)!.State != "suspended" && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }
        Assert.Equal("suspended", other.GetPeer(PeerB)!.State);
        Assert.Equal([4, 2], Assert.Single(other.Revocations()));
        Assert.Equal([4, 2], Assert.Single(await told.Task.WaitAsync(TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public async Task TokensAndAudit()
    {
        var t = new TokenRecord("tok1", "Sam", Role.Organiser, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), null);
        await Store.WriteAsync(tx => { tx.InsertToken(t, [7, 7]); return true; });
        var (found, hash) = Store.FindToken("tok1")!.Value;
        Assert.Equal(t, found);
        Assert.Equal([7, 7], hash);
        Assert.True(await Store.WriteAsync(tx => tx.RevokeToken("tok1")));
        Assert.False(await Store.WriteAsync(tx => tx.RevokeToken("tok1")));
        Assert.NotNull(Assert.Single(Store.ListTokens()).RevokedAt);
        Assert.Null(Store.FindToken("nope"));

        var a = await Store.WriteAsync(tx => tx.InsertAudit("Sam", "organiser", "fight.draft", null, "started"));
        var b = await Store.WriteAsync(tx => tx.InsertAudit("Sam", "organiser", "fight.open", "f1", "started"));
        Assert.True(b > a);
        await Store.WriteAsync(tx => { tx.SetAuditOutcome(a, "ok", "f0"); tx.SetAuditOutcome(b, "ok", "other"); return true; });
        var audit = Store.ListAudit(10);
        Assert.Equal([("fight.open", "f1", "ok"), ("fight.draft", "f0", "ok")], audit.Select(e => (e.Action, e.ObjectId, e.Outcome)));
    }

    [Fact]
    public async Task CatchUpStateRecordsFailuresAndSuccess()
    {
        await Store.WriteAsync(tx => { tx.RecordCatchUp(PeerB, "Unavailable: down"); tx.RecordCatchUp(PeerB, "Unavailable: still down"); return true; });
        var failing = Assert.Single(Store.CatchUpStates());
        Assert.Equal(("Unavailable: still down", true, false), (failing.LastError, failing.FailingSince is not null, failing.CaughtUpAt is not null));
        await Store.WriteAsync(tx => { tx.RecordCatchUp(PeerB, null); return true; });
        var ok = Assert.Single(Store.CatchUpStates());
        Assert.Equal((null, false, true), (ok.LastError, ok.FailingSince is not null, ok.CaughtUpAt is not null));
    }

    // ---- Outbox, cursor, lease, dead letters ---------------------------------------------

    [Fact]
    public async Task TheCursorMovesPastDeliveredItemsAndForgetsThem()
    {
        var id = NewId();
        // Delivery holds the lease before it advances; the lease row carries the cursor.
        await Store.WriteAsync(tx => { tx.UpsertPeer(Peer(PeerB)); return tx.TryLease(PeerB, "me", DateTimeOffset.UtcNow.AddMinutes(1)); });
        await Store.WriteAsync(tx =>
        {
            Append(tx, id);
            Append(tx, id);
            tx.Enqueue(PeerB, OutboxKind.Event, id, 1, null);
            tx.Enqueue(PeerB, OutboxKind.Event, id, 2, null);
            tx.Enqueue(PeerB, OutboxKind.Submission, id, 0, [5, 5]);
            return true;
        });
        var batch = Store.LoadBatch(PeerB, 10);
        Assert.Equal([OutboxKind.Event, OutboxKind.Event, OutboxKind.Submission], batch.Select(i => i.Kind));
        Assert.Equal(id, Envelope.Parser.ParseFrom(batch[1].Body).ObjectId);
        Assert.Equal([5, 5], batch[2].Body);
        Assert.Equal(1, Store.PendingSubmissions(id));
        Assert.Empty(Store.DuePeers(DateTimeOffset.UtcNow)); // leased
        await Store.WriteAsync(tx => { tx.ReleaseLease(PeerB, "me"); return true; });
        Assert.Equal([PeerB], Store.DuePeers(DateTimeOffset.UtcNow));
        Assert.Equal(3, Assert.Single(Store.DeliveryStates()).Pending);

        await Store.WriteAsync(tx => { tx.Advance(PeerB, batch[1].Id); return true; });
        Assert.Equal([batch[2].Id], Store.LoadBatch(PeerB, 10).Select(i => i.Id));
        await Store.WriteAsync(tx => { tx.Advance(PeerB, batch[0].Id); return true; }); // a late, older ack: the cursor never goes back
        Assert.Equal([batch[2].Id], Store.LoadBatch(PeerB, 10).Select(i => i.Id));
        await Store.WriteAsync(tx => { tx.Advance(PeerB, batch[2].Id); return true; });
        Assert.Empty(Store.LoadBatch(PeerB, 10));
        Assert.Equal(0, Store.PendingSubmissions(id));
        Assert.Equal(0, Store.Count("outbox"));
        var state = Assert.Single(Store.DeliveryStates());
        Assert.Equal((batch[2].Id, 0L), (state.DeliveredId, state.Pending));
        Assert.NotNull(state.LastDeliveredAt);
        Assert.Empty(Store.DuePeers(DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task FailuresBackOffAndDoorbellsAndLeasesHoldAPeerBack()
    {
        var now = DateTimeOffset.UtcNow;
        await Store.WriteAsync(tx => { tx.UpsertPeer(Peer(PeerB)); tx.Enqueue(PeerB, OutboxKind.Submission, NewId(), 0, [1]); return true; });

        await Store.WriteAsync(tx => { tx.RecordFailure(PeerB, "Unavailable", now.AddMinutes(1)); return true; });
        await Store.WriteAsync(tx => { tx.RecordFailure(PeerB, "circuit open", now.AddMinutes(1), countAttempt: false); return true; });
        Assert.Equal(1, await Store.WriteAsync(tx => tx.Attempts(PeerB)));
        Assert.True(await Store.WriteAsync(tx => tx.IsFailing(PeerB)));
        Assert.Empty(Store.DuePeers(now));
        Assert.Equal([PeerB], Store.DuePeers(now.AddMinutes(2)));
        // An attempt the open circuit held back made no call: the last real call's cause stays (issue 17 #7).
        Assert.Equal("Unavailable", Assert.Single(Store.DeliveryStates()).LastError);

        await Store.WriteAsync(tx => { tx.Ring(PeerB, now.AddMinutes(5)); return true; });
        Assert.Empty(Store.DuePeers(now.AddMinutes(2)));
        await Store.WriteAsync(tx => { tx.UnringAll(); return true; });
        Assert.Equal([PeerB], Store.DuePeers(now.AddMinutes(2)));

        Assert.True(await Store.WriteAsync(tx => tx.TryLease(PeerB, "me", DateTimeOffset.UtcNow.AddMinutes(10))));
        Assert.Empty(Store.DuePeers(now.AddMinutes(2)));
        Assert.Equal(1, await Store.WriteAsync(tx => tx.ReleaseLeasesOf(owner => owner == "me")));
        Assert.Equal([PeerB], Store.DuePeers(now.AddMinutes(2)));

        await Store.WriteAsync(tx => { tx.Advance(PeerB, long.MaxValue); return true; });
        Assert.False(await Store.WriteAsync(tx => tx.IsFailing(PeerB)));
        Assert.Equal(0, await Store.WriteAsync(tx => tx.Attempts(PeerB)));
    }

    [Fact]
    public async Task ALeaseHasOneHolderUntilItIsReleasedOrRunsOut()
    {
        var other = Open();
        var until = DateTimeOffset.UtcNow.AddMinutes(1);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? Store : other).WriteAsync(tx => tx.TryLease(PeerB, $"replica-{i}", until))));
        var holder = $"replica-{Array.IndexOf(results, true)}";
        Assert.Single(results, r => r);

        Assert.True(await Store.WriteAsync(tx => tx.TryLease(PeerB, holder, until.AddMinutes(1))), "the holder renews");
        await other.WriteAsync(tx => { tx.ReleaseLease(PeerB, "not-the-holder"); return true; });
        Assert.False(await other.WriteAsync(tx => tx.TryLease(PeerB, "replica-x", until)));
        await other.WriteAsync(tx => { tx.ReleaseLease(PeerB, holder); return true; });
        Assert.True(await other.WriteAsync(tx => tx.TryLease(PeerB, "replica-x", DateTimeOffset.UtcNow.AddMilliseconds(-1))));
        Assert.True(await Store.WriteAsync(tx => tx.TryLease(PeerB, "replica-y", until)), "an expired lease is free");
    }

    [Fact]
    public async Task AJobLeaseHasOneHolderAcrossReplicasUntilReleasedOrRunOut()
    {
        var other = Open();
        var until = DateTimeOffset.UtcNow.AddMinutes(1);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? Store : other).WriteAsync(tx => tx.TryLeaseJob("notifier", $"replica-{i}", until))));
        var holder = $"replica-{Array.IndexOf(results, true)}";
        Assert.Single(results, r => r);
        Assert.Equal(holder, await other.WriteAsync(tx => tx.JobLeaseOwner("notifier")));
        Assert.Null(await other.WriteAsync(tx => tx.JobLeaseOwner("expiry-sweep")));

        Assert.True(await Store.WriteAsync(tx => tx.TryLeaseJob("notifier", holder, until.AddMinutes(1))), "the holder renews");
        Assert.True(await other.WriteAsync(tx => tx.TryLeaseJob("expiry-sweep", "replica-x", until)), "each job has its own lease");
        await other.WriteAsync(tx => { tx.ReleaseJob("notifier", "not-the-holder"); return true; });
        Assert.False(await other.WriteAsync(tx => tx.TryLeaseJob("notifier", "replica-x", until)));
        await other.WriteAsync(tx => { tx.ReleaseJob("notifier", holder); return true; });
        Assert.True(await other.WriteAsync(tx => tx.TryLeaseJob("notifier", "replica-x", DateTimeOffset.UtcNow.AddMilliseconds(-1))));
        Assert.True(await Store.WriteAsync(tx => tx.TryLeaseJob("notifier", "replica-y", until)), "a lease that ran out is free");
    }

    [Fact]
    public async Task DashboardKeysAreSharedAndStoredOnceByName()
    {
        var other = Open();
        Assert.Empty(other.DashboardKeys());
        await Store.WriteAsync(tx => { tx.PutDashboardKey("key-1", "<key id=\"1\" />"); return true; });
        await other.WriteAsync(tx => { tx.PutDashboardKey("key-1", "<key id=\"changed\" />"); return true; });
        await other.WriteAsync(tx => { tx.PutDashboardKey("key-2", "<key id=\"2\" />"); return true; });

        Assert.Equal(["<key id=\"1\" />", "<key id=\"2\" />"], other.DashboardKeys());
        Assert.Equal(other.DashboardKeys(), Store.DashboardKeys());
    }

    [Fact]
    public async Task DeadLettersAreParkedListedAndReplayed()
    {
        var id = NewId();
        await Store.WriteAsync(tx =>
        {
            tx.Enqueue(PeerB, OutboxKind.Submission, id, 0, [1]);
            tx.Enqueue(PeerB, OutboxKind.Submission, id, 0, [2]);
            tx.Enqueue(PeerC, OutboxKind.Submission, id, 0, [3]);
            return true;
        });
        var b = Store.LoadBatch(PeerB, 10);
        await Store.WriteAsync(tx => { tx.DeadLetter(b[0], "PermissionDenied", "no"); return true; });
        await Store.WriteAsync(tx => { tx.DeadLetter(Store.LoadBatch(PeerC, 1)[0], "InvalidArgument", "bad"); return true; });

        Assert.Equal([b[1].Id], Store.LoadBatch(PeerB, 10).Select(i => i.Id));
        Assert.Equal(2, Store.ListDeadLetters().Count);
        var parked = Assert.Single(Store.ListDeadLetters(PeerB));
        Assert.Equal(("PermissionDenied", "no", id), (parked.Status, parked.Error, parked.ObjectId));
        Assert.Equal(new DeadLetterCount(1, 0), Store.DeadLetterCounts()[PeerC]);

        Assert.Equal(1, await Store.WriteAsync(tx => tx.ReplayDeadLetters([parked.Id, 999_999])));
        var again = Store.LoadBatch(PeerB, 10);
        Assert.Equal([[2], [1]], again.Select(i => i.Body));
        Assert.Single(Store.ListDeadLetters());

        // One set aside until the peer has a capability is counted apart from the refused.
        await Store.WriteAsync(tx => { tx.DeadLetter(Store.LoadBatch(PeerB, 1)[0], DeadLetter.WaitingPrefix + "responses.withheld", "waits"); return true; });
        Assert.Equal(new DeadLetterCount(0, 1), Store.DeadLetterCounts()[PeerB]);
        Assert.Equal("responses.withheld", Store.ListDeadLetters(PeerB).Single().WaitsFor);
        Assert.Null(Store.ListDeadLetters(PeerC).Single().WaitsFor);

        await Store.WriteAsync(tx => { tx.DropOutbox(PeerB); return true; });
        Assert.Empty(Store.LoadBatch(PeerB, 10));
    }

    // ---- Purge: a purged object leaves nothing in transit (issue 15 #10) -------------------

    [Fact]
    public async Task APurgedObjectsQueuedItemsAreDeletedForEveryPeerAndOthersStay()
    {
        var purged = NewId();
        var kept = NewId();
        await Store.WriteAsync(tx =>
        {
            tx.Enqueue(PeerB, OutboxKind.Submission, purged, 0, [1]);
            tx.Enqueue(PeerB, OutboxKind.Submission, kept, 0, [2]);
            tx.Enqueue(PeerB, OutboxKind.Submission, purged, 0, [3]);
            tx.Enqueue(PeerC, OutboxKind.Submission, purged, 0, [4]);
            return true;
        });

        Assert.Equal(3, await Store.WriteAsync(tx => tx.DeleteOutboxItems(purged)));

        Assert.Equal([kept], Store.LoadBatch(PeerB, 10).Select(i => i.ObjectId));
        Assert.Empty(Store.LoadBatch(PeerC, 10));
        Assert.Equal(0, await Store.WriteAsync(tx => tx.DeleteOutboxItems(purged)));
    }

    [Fact]
    public async Task APurgedObjectsDeadLettersAndWaitingItemsAreDeletedAndOthersStay()
    {
        var purged = NewId();
        var kept = NewId();
        await Store.WriteAsync(tx =>
        {
            tx.Enqueue(PeerB, OutboxKind.Submission, purged, 0, [1]);
            tx.Enqueue(PeerB, OutboxKind.Submission, purged, 0, [2]);
            tx.Enqueue(PeerC, OutboxKind.Submission, kept, 0, [3]);
            return true;
        });
        var b = Store.LoadBatch(PeerB, 10);
        await Store.WriteAsync(tx => { tx.DeadLetter(b[0], "PermissionDenied", "no"); return true; });
        await Store.WriteAsync(tx => { tx.DeadLetter(b[1], DeadLetter.WaitingPrefix + "responses.withheld", "waits"); return true; });
        await Store.WriteAsync(tx => { tx.DeadLetter(Store.LoadBatch(PeerC, 1)[0], "InvalidArgument", "bad"); return true; });

        Assert.Equal(2, await Store.WriteAsync(tx => tx.DeleteDeadLetters(purged)));

        Assert.Equal([kept], Store.ListDeadLetters().Select(d => d.ObjectId));
        Assert.False(Store.DeadLetterCounts().TryGetValue(PeerB, out var left) && (left.Refused > 0 || left.Waiting > 0));
    }

    [Fact]
    public async Task APurgedObjectsHeldEventsAreDeletedAndOthersStay()
    {
        var purged = NewId();
        var kept = NewId();
        await Store.WriteAsync(tx =>
        {
            tx.Hold(purged, 3, [3]);
            tx.Hold(purged, 4, [4]);
            tx.Hold(kept, 3, [5]);
            return true;
        });

        Assert.Equal(2, await Store.WriteAsync(tx => tx.DeleteHeldEvents(purged)));

        Assert.Equal([kept], Store.ObjectsWithHeldEvents());
        Assert.Null(await Store.WriteAsync(tx => tx.TakeHeld(purged, 3)));
        Assert.Equal([5], await Store.WriteAsync(tx => tx.TakeHeld(kept, 3)));
    }

    // ---- Submissions ---------------------------------------------------------------------

    [Fact]
    public async Task ASubmissionIsRecordedOnce()
    {
        var id = NewId();
        await Store.WriteAsync(tx => { tx.RecordSubmission("s1", id, 4); return true; });
        Assert.Equal(4ul, await Store.WriteAsync(tx => tx.SubmissionSequence("s1")));
        Assert.Null(await Store.WriteAsync(tx => tx.SubmissionSequence("s2")));
        await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteAsync(tx => { tx.RecordSubmission("s1", id, 5); return true; }));
    }

    // ---- The call-out feed and notifications ----------------------------------------------

    /// <summary>Call-out, fight and briefings events all enter the feed (issue 17 #1: people hear of fights too).</summary>
    [Fact]
    public async Task EveryStoredEventEntersTheFeedInOrder()
    {
        var callOut = NewId();
        var fight = NewId();
        await Store.WriteAsync(tx => Append(tx, callOut, ObjectKind.CallOut) + Append(tx, fight) + Append(tx, callOut, ObjectKind.CallOut));
        var feed = Store.ReadFeed(0, 10);
        Assert.Equal([(callOut, 1ul), (fight, 1ul), (callOut, 2ul)], feed.Select(f => (f.ObjectId, f.Sequence)));
        Assert.Equal([1, 2, 2], feed[2].Payload);
        Assert.Equal(feed[2].Position, Store.FeedEnd());
        Assert.Equal([feed[1].Position, feed[2].Position], Store.ReadFeed(feed[0].Position, 10).Select(f => f.Position));

        Assert.Equal(0, Store.FeedCursor("notifier"));
        await Store.WriteAsync(tx => { tx.SetFeedCursor("notifier", feed[0].Position); tx.SetFeedCursor("notifier", feed[2].Position); return true; });
        Assert.Equal(feed[2].Position, Store.FeedCursor("notifier"));
        Assert.Equal(feed[2].Position, await Store.WriteAsync(tx => tx.FeedCursor("notifier")));
    }

    /// <summary>
    /// A referral or incident filed with this node enters the feed in the same transaction,
    /// between the events stored before and after it; once purged it is read no more (issue 17 #1).
    /// </summary>
    [Fact]
    public async Task AFiledReportEntersTheFeedInItsPlaceAndLeavesItWhenPurged()
    {
        var fight = NewId();
        var report = new FightReport { FightId = fight, Network = PeerB, Kind = ReportKind.Referral, Summary = "the boss rang" };
        await Store.WriteAsync(tx => Append(tx, fight));
        await Store.WriteAsync(tx => { tx.InsertReport(fight, PeerB, Google.Protobuf.MessageExtensions.ToByteArray(report)); return true; });
        await Store.WriteAsync(tx => Append(tx, fight));

        var feed = Store.ReadFeed(0, 10);

        Assert.Equal([(fight, 1ul, false), (fight, 0ul, true), (fight, 2ul, false)], feed.Select(f => (f.ObjectId, f.Sequence, f.Report is not null)));
        Assert.Equal(report, FightReport.Parser.ParseFrom(feed[1].Report));
        Assert.Equal(PeerB, feed[1].ReportNetwork);
        Assert.Empty(feed[1].Payload);
        Assert.Equal(feed[2].Position, Store.FeedEnd());

        await Store.WriteAsync(tx => tx.DeleteReports(fight));

        Assert.Equal([1ul, 2ul], Store.ReadFeed(0, 10).Select(f => f.Sequence));
    }

    /// <summary>A reminder is recorded once by its key, and enters the feed once (issue 17 #3).</summary>
    [Fact]
    public async Task AReminderIsRecordedOnceByItsKeyAndEntersTheFeedOnce()
    {
        var fight = NewId();

        Assert.True(await Store.WriteAsync(tx => tx.InsertReminder($"stand-down:{fight}", fight, [7, 7])));
        Assert.False(await Store.WriteAsync(tx => tx.InsertReminder($"stand-down:{fight}", fight, [8])));

        var entry = Assert.Single(Store.ReadFeed(0, 10));
        Assert.Equal((fight, 0ul), (entry.ObjectId, entry.Sequence));
        Assert.Equal([7, 7], entry.Reminder);
        Assert.Null(entry.Report);
        Assert.Empty(entry.Payload);
    }

    /// <summary>Each token's "last looked" is its own, and a stale position never moves it back (issue 17 #2).</summary>
    [Fact]
    public async Task EachTokenKeepsHowFarItLastLookedAndNeverGoesBack()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Null(Store.NewsSeen("t1"));

        await Store.WriteAsync(tx => { tx.SetNewsSeen("t1", 7, at); tx.SetNewsSeen("t2", 3, at); return true; });
        await Store.WriteAsync(tx => { tx.SetNewsSeen("t1", 5, at.AddMinutes(1)); return true; });

        Assert.Equal(new NewsSeenRecord(7, at.AddMinutes(1)), Store.NewsSeen("t1"));
        Assert.Equal(new NewsSeenRecord(3, at), Store.NewsSeen("t2"));
        await Store.WriteAsync(tx => { tx.SetNewsSeen("t2", 9, at); return true; });
        Assert.Equal(9, Store.NewsSeen("t2")!.Position);
    }

    [Fact]
    public async Task NotificationsAreQueuedOnceRetriedAndGivenUp()
    {
        var now = DateTimeOffset.UtcNow;
        await Store.WriteAsync(tx =>
        {
            tx.AddChannel(new ChannelRecord("wh1", "webhook", "http://x", "secret", true, now));
            tx.AddChannel(new ChannelRecord("em1", "email", "a@b", null, true, now, "invitation,stand-down"));
            tx.InsertDelivery("wh1", 1, "o", 1, [1]);
            tx.InsertDelivery("wh1", 1, "o", 1, [1]); // the notifier saw the same feed item twice
            tx.InsertDelivery("wh1", 2, "o", 2, [2]);
            tx.InsertDelivery("em1", 1, "o", 1, [1]);
            return true;
        });
        Assert.Equal([("wh1", ""), ("em1", "invitation,stand-down")], Store.ListChannels().Select(c => (c.Id, c.Kinds)));
        Assert.Equal(3, Store.ListDeliveries(null, 10).Count);
        var due = Store.DueDeliveries(DateTimeOffset.UtcNow.AddSeconds(1), 10);
        Assert.Equal([("wh1", 1L), ("wh1", 2L), ("em1", 1L)], due.Select(d => (d.ChannelId, d.Cursor)));

        await Store.WriteAsync(tx => { tx.MarkAttemptFailed(due[0].Id, "HTTP 500", DateTimeOffset.UtcNow.AddHours(1)); return true; });
        // The webhook's older delivery waits for its retry, so its newer one waits behind it.
        Assert.Equal([("em1", 1L)], Store.DueDeliveries(DateTimeOffset.UtcNow.AddSeconds(1), 10).Select(d => (d.ChannelId, d.Cursor)));
        await Store.WriteAsync(tx => { tx.MarkDelivered(due[2].Id); tx.MarkAttemptFailed(due[0].Id, "HTTP 500 again", null); return true; });
        var wh = Store.ListDeliveries("wh1", 10);
        var first = wh.Single(d => d.Id == due[0].Id);
        Assert.Equal((DeliveryStates.Failed, 2, "HTTP 500 again"), (first.State, first.Attempts, first.LastError));
        var email = Assert.Single(Store.ListDeliveries("em1", 10));
        Assert.Equal((DeliveryStates.Delivered, 1), (email.State, email.Attempts));
        Assert.NotNull(email.DeliveredAt);

        Assert.True(await Store.WriteAsync(tx => tx.DeactivateChannel("wh1")));
        Assert.False(await Store.WriteAsync(tx => tx.DeactivateChannel("wh1")));
        Assert.False(Store.ListChannels().Single(c => c.Id == "wh1").Active);
        Assert.All(Store.ListDeliveries("wh1", 10), d => Assert.Equal(DeliveryStates.Failed, d.State));
    }

    [Fact]
    public async Task OpeningTheDatabaseAgainKeepsItsData()
    {
        await Store.WriteAsync(tx => { tx.UpsertPeer(Peer(PeerB)); return true; });
        var again = Open();
        Assert.Equal([PeerB], again.ListPeers().Select(p => p.NodeId));
        Assert.Throws<ArgumentException>(() => again.Count("peers; DROP TABLE peers"));
    }

    // ---- The fediverse actor (issue 19) -----------------------------------------------------

    [Fact]
    public async Task FediverseFollowersPublicCallOutsAndTheKeyRoundTrip()
    {
        var since = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        await Store.WriteAsync(tx =>
        {
            tx.PutFediverseFollower(new FediverseFollower("https://a.example/users/x", "https://a.example/users/x/inbox", "https://a.example/inbox", since));
            tx.PutFediverseFollower(new FediverseFollower("https://b.example/users/y", "https://b.example/users/y/inbox", "", since));
            // A second Follow from the same actor updates where it receives, not who follows.
            tx.PutFediverseFollower(new FediverseFollower("https://b.example/users/y", "https://b.example/users/y/inbox2", "", since));
            tx.MarkCallOutPublic("one");
            tx.MarkCallOutPublic("one");
            return 0;
        });
        var followers = Store.FediverseFollowers();
        Assert.Equal(["https://a.example/inbox", "https://b.example/users/y/inbox2"], followers.Select(f => f.DeliverTo));
        Assert.Equal("one", Assert.Single(Store.PublicCallOuts()).CallOutId);
        Assert.True(await Store.WriteAsync(tx => tx.DeleteFediverseFollower("https://a.example/users/x")));
        Assert.False(await Store.WriteAsync(tx => tx.DeleteFediverseFollower("https://a.example/users/x")));
        Assert.True(await Store.WriteAsync(tx => tx.UnmarkCallOutPublic("one")));
        Assert.Empty(Store.PublicCallOuts());

        // Two replicas making the key at once keep one: the first stored.
        Assert.Null(Store.FediverseKey());
        var first = await Store.WriteAsync(tx => tx.PutFediverseKeyIfAbsent("first"));
        var second = await Open().WriteAsync(tx => tx.PutFediverseKeyIfAbsent("second"));
        Assert.Equal(("first", "first", "first"), (first, second, Store.FediverseKey()));
    }

    [Fact]
    public async Task FediverseDeliveriesGoOneAtATimePerHostInOrderAndDeadLettersStepAside()
    {
        await Store.WriteAsync(tx =>
        {
            tx.EnqueueFediverse("https://a.example/inbox", "a.example", "{\"n\":1}"u8.ToArray());
            tx.EnqueueFediverse("https://a.example/inbox", "a.example", "{\"n\":2}"u8.ToArray());
            tx.EnqueueFediverse("https://b.example/inbox", "b.example", "{\"n\":3}"u8.ToArray());
            return 0;
        });
        var now = DateTimeOffset.UtcNow;
        var due = Store.DueFediverseDeliveries(now, 10);
        Assert.Equal(["{\"n\":1}", "{\"n\":3}"], due.Select(d => System.Text.Encoding.UTF8.GetString(d.Body)));

        // A lease is taken once; a leased delivery is not due to anyone else.
        var a1 = due[0];
        Assert.True(await Store.WriteAsync(tx => tx.LeaseFediverseDelivery(a1.Id, now.AddMinutes(1))));
        Assert.False(await Open().WriteAsync(tx => tx.LeaseFediverseDelivery(a1.Id, now.AddMinutes(1))));
        Assert.DoesNotContain(Store.DueFediverseDeliveries(now, 10), d => d.Host == "a.example");

        // A failure waits its backoff, and the host's next stays behind it.
        await Store.WriteAsync(tx => { tx.FediverseFailed(a1.Id, now.AddMinutes(5), "503", dead: false); return 0; });
        Assert.DoesNotContain(Store.DueFediverseDeliveries(now, 10), d => d.Host == "a.example");
        var retried = Assert.Single(Store.DueFediverseDeliveries(now.AddMinutes(6), 10), d => d.Host == "a.example");
        Assert.Equal((a1.Id, 1, "503"), (retried.Id, retried.Attempts, retried.LastError));

        // Parked: the host's next goes ahead, and the dead letter is kept for the operator.
        await Store.WriteAsync(tx => { tx.FediverseFailed(a1.Id, now, "410 Gone", dead: true); return 0; });
        Assert.Equal("{\"n\":2}", System.Text.Encoding.UTF8.GetString(Store.DueFediverseDeliveries(now, 10).Single(d => d.Host == "a.example").Body));
        Assert.Equal("410 Gone", Assert.Single(Store.FediverseDeadLetters()).LastError);
        Assert.Equal(2, Store.PendingFediverseDeliveries());

        await Store.WriteAsync(tx => { tx.FediverseDelivered(due[1].Id); return 0; });
        Assert.Equal(1, Store.PendingFediverseDeliveries());
        Assert.Equal(1, await Store.WriteAsync(tx => tx.DropFediverseDeliveries()));
        Assert.Equal(0, Store.PendingFediverseDeliveries());
        Assert.Single(Store.FediverseDeadLetters());
    }

    // ---- Several replicas writing at once ---------------------------------------------------

    [Fact]
    public async Task ConcurrentAppendsFromTwoReplicasKeepSequencesGapFreeAndUnique()
    {
        var replicas = new[] { Store, Open() };
        var id = NewId();
        const int writers = 8, each = 15;
        var taken = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var mine = new List<ulong>();
            for (var i = 0; i < each; i++)
            {
                mine.Add(await replicas[w % 2].WriteAsync(tx => Append(tx, id)));
            }
            return mine;
        })));

        var all = taken.SelectMany(x => x).Order().ToList();
        Assert.Equal(Enumerable.Range(1, writers * each).Select(i => (ulong)i), all);
        Assert.Equal(all, Store.LoadEvents(id, 0, 1000).Select(e => e.Sequence));
        Assert.Equal((ulong)(writers * each), Store.GetObject(id)!.LastSequence);
    }

    [Fact]
    public async Task TheSameEventArrivingAtTwoReplicasAtOnceIsAppliedOnce()
    {
        var replicas = new[] { Store, Open() };
        for (var round = 0; round < 10; round++)
        {
            var id = NewId();
            var e = Event(id, 1);
            // ReplicaLog's check: apply the next event, count anything at or below last_seq as a duplicate.
            var applied = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => replicas[i % 2].WriteAsync(tx =>
            {
                if ((tx.GetObject(id)?.LastSequence ?? 0) >= e.Sequence)
                {
                    return false;
                }
                tx.InsertEvent(e);
                tx.PutObject(new StoredObject(id, ObjectKind.Fight, Origin, 1, [1]));
                return true;
            }))));
            Assert.Single(applied, a => a);
            Assert.Single(Store.LoadEvents(id, 0, 10));
        }
    }

    [Fact]
    public async Task ARetriedSubmissionRacingOnTwoReplicasIsAppendedOnce()
    {
        var replicas = new[] { Store, Open() };
        var id = NewId();
        await Store.WriteAsync(tx => Append(tx, id));
        for (var round = 0; round < 10; round++)
        {
            var submission = $"sub-{round}";
            // OriginLog's dedupe: a recorded submission returns its sequence and appends nothing.
            var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => replicas[i % 2].WriteAsync(tx =>
            {
                if (tx.SubmissionSequence(submission) is { } seen)
                {
                    return (seen, duplicate: true);
                }
                var seq = Append(tx, id);
                tx.RecordSubmission(submission, id, seq);
                return (seq, duplicate: false);
            }))));
            Assert.Single(results, r => !r.duplicate);
            Assert.Single(results.Select(r => r.Item1).Distinct());
        }
        Assert.Equal(11ul, Store.GetObject(id)!.LastSequence);
        Assert.Equal(11, Store.LoadEvents(id, 0, 100).Count);
    }

    [Fact]
    public async Task ASubmissionArrivingManyTimesAtOnceIsJudgedOnceByTheOriginLog()
    {
        // Through the real OriginLog, where the rules see the state: a second copy judged
        // against the state the first produced would be refused ("has not pledged") instead
        // of being answered as a duplicate, and its sender would park it for good.
        var dir = Directory.CreateTempSubdirectory("fed-contract-id-").FullName;
        try
        {
            using var identity = NodeIdentity.LoadOrCreate(dir);
            var clock = new NodeClock(Options.Create(new NodeOptions()));
            var logs = new[] { Store, Open() }.Select(s => new OriginLog(s, identity, new OutboxSignal(), clock)).ToArray();
            var responder = new string('d', 32);
            var callOut = Identifiers.NewObjectId(identity.NodeId);
            var content = new CallOutContent
            {
                Title = "Picket the Leeds branch",
                Target = new Target { Name = "Bistro Co" },
                DemandSummary = "Pay the stolen wages",
                Places = { new Place { City = "Leeds", Address = "1 High St" } },
                ActionTypes = { ActionType.Picket },
            };
            await logs[0].AppendAsync(callOut, ObjectKind.CallOut, identity.NodeId, _ => [CallOuts.Publish(content, [responder])]);
            for (var round = 0; round < 5; round++)
            {
                await logs[0].AppendAsync(callOut, ObjectKind.CallOut, responder, _ => [Responded(responder, new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05" })],
                    Guid.NewGuid().ToString());
                // "Unable" withdraws a pledge, so only the first copy can pass the rules.
                var unable = Guid.NewGuid().ToString();
                var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() =>
                    logs[i % 2].AppendAsync(callOut, ObjectKind.CallOut, responder,
                        _ => [Responded(responder, new CallOutResponse { Kind = ResponseKind.Unable, Reason = "the van broke down" })], unable))));
                Assert.Single(results, r => !r.Duplicate);
                Assert.Single(results.Select(r => r.LastSequence).Distinct());
            }
            Assert.Equal(11ul, Store.GetObject(callOut)!.LastSequence);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static EventBody Responded(string network, CallOutResponse response) =>
        new() { CallOutResponded = new CallOutResponded { Network = network, Response = response } };

    [Fact]
    public async Task TwoReplicasDeliveringUnderTheLeaseSendEveryItemOnceWhileOthersWrite()
    {
        var replicas = new[] { Store, Open(), Open() };
        var id = NewId();
        const int writers = 6, each = 20;
        var delivered = new ConcurrentBag<long>();
        var sentBodies = new ConcurrentBag<string>();
        var writing = true;

        var writes = Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < each; i++)
            {
                await replicas[w % 3].WriteAsync(tx =>
                {
                    tx.Enqueue(PeerB, OutboxKind.Submission, id, 0, System.Text.Encoding.UTF8.GetBytes($"{w}/{i}"));
                    // Hold the transaction open a moment, so commits land out of id order.
                    Thread.Sleep(Random.Shared.Next(0, 12));
                    return true;
                });
            }
        })));

        // Each replica delivers as PeerDelivery does: take the lease, read a batch after the
        // cursor, "send" it, advance, release.
        var deliverers = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            var owner = $"replica-{r}";
            var store = replicas[r + 1];
            while (Volatile.Read(ref writing) || store.LoadBatch(PeerB, 1).Count > 0)
            {
                if (await store.WriteAsync(tx => tx.TryLease(PeerB, owner, DateTimeOffset.UtcNow.AddMinutes(1))))
                {
                    var batch = store.LoadBatch(PeerB, 7);
                    foreach (var item in batch)
                    {
                        delivered.Add(item.Id);
                        sentBodies.Add(System.Text.Encoding.UTF8.GetString(item.Body));
                    }
                    await store.WriteAsync(tx =>
                    {
                        if (batch.Count > 0)
                        {
                            tx.Advance(PeerB, batch[^1].Id);
                        }
                        tx.ReleaseLease(PeerB, owner);
                        return true;
                    });
                }
                await Task.Yield();
            }
        })).ToArray();

        await writes;
        Volatile.Write(ref writing, false);
        await Task.WhenAll(deliverers).WaitAsync(TimeSpan.FromSeconds(60));

        var expected = Enumerable.Range(0, writers).SelectMany(w => Enumerable.Range(0, each).Select(i => $"{w}/{i}")).Order().ToList();
        Assert.Equal(expected, sentBodies.Order().ToList()); // every item, none twice
        Assert.Equal(delivered.Count, delivered.Distinct().Count());
        Assert.Equal(0, Store.Count("outbox"));
    }

    [Fact]
    public async Task AFeedReaderFollowingByPositionMissesNothingWhileReplicasWrite()
    {
        var replicas = new[] { Store, Open() };
        const int writers = 6, each = 15;
        var seen = new List<(string, ulong)>();
        var writing = true;
        var writes = Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var id = NewId();
            for (var i = 0; i < each; i++)
            {
                await replicas[w % 2].WriteAsync(tx =>
                {
                    var seq = Append(tx, id, ObjectKind.CallOut);
                    Thread.Sleep(Random.Shared.Next(0, 12));
                    return seq;
                });
            }
        })));
        var reader = Task.Run(async () =>
        {
            long position = 0;
            while (true)
            {
                var done = !Volatile.Read(ref writing);
                var page = replicas[1].ReadFeed(position, 10);
                seen.AddRange(page.Select(f => (f.ObjectId, f.Sequence)));
                position = page.Count > 0 ? page[^1].Position : position;
                if (done && page.Count == 0)
                {
                    return;
                }
                await Task.Yield();
            }
        });
        await writes;
        Volatile.Write(ref writing, false);
        await reader.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(writers * each, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task ARelayHoldsParcelsUntilTheReceiptOrTheirExpiryAndAnotherHandleSeesThemAll()
    {
        var now = DateTimeOffset.UtcNow;
        await Store.WriteAsync(tx =>
        {
            tx.SetRelayAllowed(PeerB, true);
            tx.SetRelayAllowed(PeerC, true);
            tx.SetRelayAllowed(PeerC, false);
            tx.SetPeerRelayOffer(new PeerRelayOffer(PeerC, [PeerB, Origin], [7, 7], now));
            return true;
        });
        Assert.True(await Store.WriteAsync(tx => tx.PutRelayParcel("p1", PeerB, PeerC, new byte[100], now.AddDays(1))));
        Assert.False(await Store.WriteAsync(tx => tx.PutRelayParcel("p1", PeerB, PeerC, new byte[100], now.AddDays(1))));
        Assert.True(await Store.WriteAsync(tx => tx.PutRelayParcel("p2", PeerB, PeerC, new byte[50], now.AddDays(1))));
        Assert.Equal(150, await Store.WriteAsync(tx => tx.RelayHeldBytes(PeerB)));

        // Another handle (a replica, or the node after a restart) sees what was written.
        var other = Open();
        Assert.Equal([PeerB], other.RelayAllowed());
        Assert.Equal([PeerB, Origin], other.PeerRelayOfferOf(PeerC)!.AllowedRelays);
        Assert.Equal([7, 7], other.PeerRelayOfferOf(PeerC)!.SealingKey);
        Assert.Equal(["p1", "p2"], other.DueRelayParcels(now, 10).Select(p => p.ParcelId));
        Assert.Equal(new RelayHeld(PeerB, 2, 150), Assert.Single(other.RelayHeldBySource()));

        // Taken: only the receipt stays, for the source; failed: not due until its next attempt.
        await other.WriteAsync(tx =>
        {
            tx.RelayParcelTaken("p1", [5]);
            tx.RelayParcelFailed("p2", now.AddHours(1), "Unavailable");
            return true;
        });
        Assert.Empty(Store.DueRelayParcels(now, 10));
        Assert.Single(Store.DueRelayParcels(now.AddHours(2), 10));
        Assert.Equal(50, await Store.WriteAsync(tx => tx.RelayHeldBytes(PeerB)));
        var receipt = Assert.Single(Store.RelayReceiptsFor(PeerB));
        Assert.Equal(("p1", PeerC), (receipt.ParcelId, receipt.Recipient));
        Assert.Equal([5], receipt.Receipt);
        Assert.Empty(Store.RelayReceiptsFor(PeerC));

        // Only the source forgets its own; what expired goes.
        Assert.False(await Store.WriteAsync(tx => tx.DropRelayParcel("p1", PeerC)));
        Assert.True(await Store.WriteAsync(tx => tx.DropRelayParcel("p1", PeerB)));
        Assert.Equal(1, await Store.WriteAsync(tx => tx.DropExpiredRelayParcels(now.AddDays(2))));
        Assert.Equal(0, Store.Count("relay_parcels"));

        // A peer reached by relay, until a direct delivery drops the route.
        await Store.WriteAsync(tx =>
        {
            tx.SetRelayRoute(new RelayRoute(PeerC, PeerB, now, 4));
            tx.SetRelayRoute(new RelayRoute(PeerC, PeerB, now, 9));
            return true;
        });
        Assert.Equal(9, Assert.Single(other.RelayRoutes()).UpToOutboxId);
        await Store.WriteAsync(tx =>
        {
            tx.DropRelayRoute(PeerC);
            return true;
        });
        Assert.Empty(other.RelayRoutes());
    }
}
