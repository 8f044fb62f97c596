using System.Reflection;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Federation.Node.Tests;

/// <summary>Schema migration 2 (call-outs end to end) on a database that already holds data.</summary>
public sealed class CallOutStorageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fed-storage-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private SqliteStore Open() => new(Options.Create(new NodeOptions { DataDir = _dir }));

    private static StoredEvent Event(string objectId, ObjectKind kind, ulong seq) =>
        new(objectId, kind, seq, Guid.NewGuid().ToString(), [1, 2, 3], [4, 5, 6]);

    /// <summary>A database as the foundation's schema (migration 1 only) left it, with a peer and a call-out event.</summary>
    private void CreateVersionOneDatabase(string callOutId, string peerId)
    {
        var migrations = (string[])typeof(SqliteStore).Assembly.GetType("Federation.Storage.SqliteSchema")!
            .GetField("Migrations", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
        using var c = new SqliteConnection($"Data Source={Path.Combine(_dir, "node.db")}");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = migrations[0] + $"""
            PRAGMA user_version = 1;
            INSERT INTO peers (node_id, name, address, public_key, state, added_at) VALUES ('{peerId}', 'beta', 'http://127.0.0.1:1', x'00', 'active', 0);
            INSERT INTO events (object_id, kind, seq, event_id, payload, signature, stored_at) VALUES ('{callOutId}', 2, 1, 'e1', x'01', x'02', 0);
            """;
        cmd.ExecuteNonQuery();
    }

    [Fact]
    public void AnExistingDatabaseIsMigratedWithoutReplayingOldEventsAsNews()
    {
        var peer = new string('b', 32);
        var callOut = Identifiers.NewObjectId(peer);
        CreateVersionOneDatabase(callOut, peer);

        using var store = Open();

        Assert.Equal(new PeerRegion(peer, ""), Assert.Single(store.PeerRegions()));
        Assert.Equal(0, store.FeedEnd());
        Assert.Equal(0, store.FeedCursor("notifier"));
        Assert.Equal(1, store.Count("events"));
    }

    /// <summary>Issue 17 #1: fight and briefings events enter the feed too, so people hear of them; the feed keeps the order stored.</summary>
    [Fact]
    public async Task EveryStoredCallOutFightAndBriefingsEventEntersTheFeedInTheOrderStored()
    {
        using var store = Open();
        var origin = new string('c', 32);
        var callOut = Identifiers.NewObjectId(origin);
        var fight = Identifiers.NewObjectId(origin);
        var briefings = Briefings.IdOf(fight);

        await store.WriteAsync(tx =>
        {
            tx.InsertEvent(Event(callOut, ObjectKind.CallOut, 1));
            tx.InsertEvent(Event(fight, ObjectKind.Fight, 1));
            tx.InsertEvent(Event(briefings, ObjectKind.Briefings, 1));
            tx.InsertEvent(Event(callOut, ObjectKind.CallOut, 2));
            return true;
        });

        var feed = store.ReadFeed(0, 10);
        Assert.Equal(new[] { (callOut, 1UL), (fight, 1UL), (briefings, 1UL), (callOut, 2UL) }, feed.Select(f => (f.ObjectId, f.Sequence)));
        Assert.Equal(new byte[] { 1, 2, 3 }, feed[0].Payload);
        Assert.Equal(feed[3].Position, store.FeedEnd());
        Assert.Equal(3, store.ReadFeed(feed[0].Position, 10).Count);
    }

    /// <summary>
    /// Migration 10 (issue 17 #1) on a database that already holds a fight: its old events are
    /// not told as news, an existing channel is sent every kind, and fight events from then on
    /// enter the feed.
    /// </summary>
    [Fact]
    public async Task ADatabaseBeforeFightNotificationsIsMigratedWithoutTellingOldFightEvents()
    {
        var migrations = (string[])typeof(SqliteStore).Assembly.GetType("Federation.Storage.SqliteSchema")!
            .GetField("Migrations", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
        var fight = Identifiers.NewObjectId(new string('e', 32));
        using (var c = new SqliteConnection($"Data Source={Path.Combine(_dir, "node.db")}"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = string.Join("\n", migrations[..9]) + $"""
                PRAGMA user_version = 9;
                INSERT INTO events (object_id, kind, seq, event_id, payload, signature, stored_at) VALUES ('{fight}', 1, 1, 'e1', x'01', x'02', 0);
                INSERT INTO notification_channels (id, kind, target, secret, active, created_at) VALUES ('wh-old', 'webhook', 'http://x', 'secret', 1, 0);
                """;
            cmd.ExecuteNonQuery();
        }

        using var store = Open();

        Assert.Equal(0, store.FeedEnd());
        Assert.Equal(("wh-old", ""), Assert.Single(store.ListChannels().Select(ch => (ch.Id, ch.Kinds))));
        await store.WriteAsync(tx =>
        {
            tx.InsertEvent(Event(fight, ObjectKind.Fight, 2));
            return true;
        });
        Assert.Equal((fight, 2UL), Assert.Single(store.ReadFeed(0, 10).Select(f => (f.ObjectId, f.Sequence))));
    }

    [Fact]
    public async Task AFailedWriteLeavesNothingInTheFeed()
    {
        using var store = Open();
        var callOut = Identifiers.NewObjectId(new string('d', 32));

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAsync<bool>(tx =>
        {
            tx.InsertEvent(Event(callOut, ObjectKind.CallOut, 1));
            throw new InvalidOperationException("a rule said no after the insert");
        }));

        Assert.Equal(0, store.FeedEnd());
    }
}
