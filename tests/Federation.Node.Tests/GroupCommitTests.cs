using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Storage;
using Microsoft.Extensions.Options;

namespace Federation.Node.Tests;

/// <summary>
/// Concurrent writes share one transaction (group commit). Each must still behave as if
/// it ran alone: its own result, its own failure, nothing of a failed write kept, and a
/// submission recorded once however many copies arrive together.
/// </summary>
public sealed class GroupCommitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fed-group-").FullName;
    private readonly SqliteStore _store;

    public GroupCommitTests() => _store = new SqliteStore(Options.Create(new NodeOptions { DataDir = _dir }));

    private static PeerRecord Peer(int i) => new($"{i:x32}", $"peer {i}", $"http://127.0.0.1:{10000 + i}", [1, 2, 3], "pending", DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_failing_write_is_undone_alone_and_the_others_in_its_group_commit()
    {
        var writes = Enumerable.Range(0, 300).Select(i => Task.Run(() => _store.WriteAsync(tx =>
        {
            tx.UpsertPeer(Peer(i));
            if (i % 10 == 0)
            {
                throw new InvalidOperationException($"write {i} refused");
            }
            return i;
        }))).ToArray();
        for (var i = 0; i < writes.Length; i++)
        {
            if (i % 10 == 0)
            {
                var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => writes[i]);
                Assert.Equal($"write {i} refused", ex.Message);
                Assert.Null(_store.GetPeer(Peer(i).NodeId));
            }
            else
            {
                Assert.Equal(i, await writes[i]);
                Assert.NotNull(_store.GetPeer(Peer(i).NodeId));
            }
        }
        Assert.Equal(270, _store.Count("peers"));
    }

    [Fact]
    public async Task Writes_in_one_group_see_the_writes_before_them()
    {
        const string id = "counter";
        await _store.WriteAsync(tx => { tx.PutObject(new StoredObject(id, ObjectKind.CallOut, "x", 0, [])); return true; });
        // Each write counts up from what it reads: a lost update would show as a short count.
        var writes = Enumerable.Range(0, 200).Select(_ => Task.Run(() => _store.WriteAsync(tx =>
        {
            var seen = tx.GetObject(id)!;
            tx.PutObject(seen with { LastSequence = seen.LastSequence + 1 });
            return true;
        })));
        await Task.WhenAll(writes);
        Assert.Equal(200UL, _store.GetObject(id)!.LastSequence);
    }

    [Fact]
    public async Task The_same_submission_arriving_many_times_at_once_is_recorded_once()
    {
        var identity = NodeIdentity.LoadOrCreate(_dir);
        var log = new OriginLog(_store, identity, new OutboxSignal(), new NodeClock(Options.Create(new NodeOptions())));
        var responder = new string('a', 32);
        var callOut = Identifiers.NewObjectId(identity.NodeId);
        await log.AppendAsync(callOut, ObjectKind.CallOut, identity.NodeId, _ => [CallOuts.Publish(Samples.CallOut(), [responder])]);
        var submission = Guid.NewGuid().ToString();
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() =>
            log.AppendAsync(callOut, ObjectKind.CallOut, responder,
                _ => [new EventBody { CallOutResponded = new CallOutResponded { Network = responder, Response = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05" } } }],
                submission))));
        Assert.Single(results, r => !r.Duplicate);
        Assert.All(results, r => Assert.Equal(2UL, r.LastSequence));
        Assert.Equal(2, _store.Count("events"));
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
