using Federation.Contracts.V1;
using Federation.Node.Delivery;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Federation.Node.Tests;

/// <summary>
/// The scaled shape: one node run as several processes (replicas) that share one
/// PostgreSQL database and one RabbitMQ virtual host, under concurrent load from its
/// peers and its own delegates.
/// </summary>
public sealed class MultiReplicaTests
{
    private const int ReportsPerPeer = 12;
    private const int UpdatesPerReplica = 4;

    [Fact]
    public async Task ReplicasOfOneNodeKeepSequencesGapFreeAndDeliverEveryEventOnceToEveryPeer()
    {
        using var db = new TestPostgresDatabase();
        var settings = (Dictionary<string, string> s) =>
        {
            s["Node__Database"] = "postgres";
            s["Node__Postgres__ConnectionString"] = db.ConnectionString;
        };
        await using var a1 = await BrokerNode.StartAsync("alpha", settings);
        await using var a2 = await NodeProcess.StartReplicaAsync(a1, "alpha-2");
        await using var a3 = await NodeProcess.StartReplicaAsync(a1, "alpha-3");
        await using var b = await BrokerNode.StartAsync("beta");
        await using var c = await BrokerNode.StartAsync("gamma");
        var replicas = new[] { a1, a2, a3 };
        try
        {
            Assert.Equal(a1.NodeId, a2.NodeId);
            Assert.Equal(a1.NodeId, a3.NodeId);

            // Alpha's operator adds the peers once, at one replica: the others read them from the database.
            await a1.AddPeerAsync(b);
            await a2.AddPeerAsync(c);
            // Beta reaches alpha through replica 2, gamma through replica 3: their
            // submissions land on different processes.
            await b.Delegate.AddPeerAsync(new AddPeerRequest { Address = a2.Address, Fingerprint = a1.Fingerprint }, b.Auth);
            await c.Delegate.AddPeerAsync(new AddPeerRequest { Address = a3.Address, Fingerprint = a1.Fingerprint }, c.Auth);

            var published = await a1.PublishAsync(b, c);
            var id = published.Id;
            await Eventually.TrueAsync(() => LastSequence(b, id) >= 1 && LastSequence(c, id) >= 1, "the call-out to reach beta and gamma", 60);

            // All at once: both peers report back repeatedly (submissions to two replicas),
            // and alpha's delegates update the call-out at every replica.
            var load = new List<Task>();
            foreach (var (peer, i) in new[] { b, c }.SelectMany(p => Enumerable.Range(0, ReportsPerPeer).Select(i => (p, i))))
            {
                load.Add(peer.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
                {
                    CallOutId = id,
                    Response = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = $"{peer.Name} report {i}", Turnout = (uint)i + 1 },
                }, peer.Auth).ResponseAsync);
            }
            foreach (var (replica, r) in replicas.Select((x, r) => (x, r)))
            {
                load.Add(Task.Run(async () =>
                {
                    for (var i = 0; i < UpdatesPerReplica; i++)
                    {
                        var content = Samples.CallOut();
                        content.TalkingPoints = $"replica {r}, update {i}";
                        await replica.Delegate.UpdateCallOutAsync(new UpdateCallOutRequest { CallOutId = id, Content = content }, replica.Auth);
                    }
                }));
            }
            await Task.WhenAll(load);

            var expected = 1 + 2 * ReportsPerPeer + replicas.Length * UpdatesPerReplica;
            await Eventually.TrueAsync(() => OriginSequences(db, id).Count == expected, $"alpha to record all {expected} events", 90);
            await Eventually.TrueAsync(() => LastSequence(b, id) == expected && LastSequence(c, id) == expected,
                $"beta and gamma to hold all {expected} events", 90);

            // Gap-free and unique at the origin: 1..N, each once.
            var origin = OriginSequences(db, id);
            Assert.Equal(Enumerable.Range(1, expected).Select(i => (long)i), origin.Select(e => e.Seq));
            Assert.Equal(expected, origin.Select(e => e.EventId).Distinct().Count());

            var atOrigin = await a3.Delegate.GetCallOutAsync(new GetObjectRequest { Id = id }, a3.Auth);
            Assert.StartsWith("replica ", atOrigin.Content.TalkingPoints);
            foreach (var peer in new[] { b, c })
            {
                // Exactly the origin's events, each stored once (the call-out feed gets a row
                // for every stored event, so a double application would show there too).
                var held = PeerEvents(peer, id);
                Assert.Equal(origin, held);
                Assert.Equal(expected, PeerFeedRows(peer, id));
                var state = await peer.Delegate.GetCallOutAsync(new GetObjectRequest { Id = id }, peer.Auth);
                Assert.Equal(atOrigin.Content.TalkingPoints, state.Content.TalkingPoints);
                Assert.Equal(2, state.Responses.Count); // one row per network: its latest report
            }

            // Every peer's cursor is past everything alpha queued, and nothing was parked.
            await Eventually.TrueAsync(() => Scalar(db, "SELECT COUNT(*) FROM outbox") == 0, "alpha's outbox to drain", 60);
            Assert.Equal(0, Scalar(db, "SELECT COUNT(*) FROM dead_letters"));
            Assert.Equal(0, Scalar(db, "SELECT COUNT(*) FROM peer_delivery WHERE failing_since IS NOT NULL"));
            Assert.Equal(2 * ReportsPerPeer, Scalar(db, "SELECT COUNT(*) FROM submissions"));
        }
        catch
        {
            Console.WriteLine(string.Join("\n", replicas.Append(b).Append(c).Select(n => n.LogTail(60))));
            throw;
        }
    }

    /// <summary>
    /// Issue 15 #13: beta is revoked at replica 1; replica 2, which pinned beta's key before,
    /// refuses beta's envelopes relayed by gamma and ends beta's open SubmitStream at once.
    /// </summary>
    [Fact]
    public async Task ARevocationAtOneReplicaTakesEffectAtTheOthersAndEndsOpenStreams()
    {
        using var db = new TestPostgresDatabase();
        await using var a1 = await StartOnPostgresAsync(db);
        await using var a2 = await NodeProcess.StartReplicaAsync(a1, "alpha-2");
        await using var beta = await TestNode.StartAsync("beta");
        await using var gamma = await TestNode.StartAsync("gamma");
        foreach (var peer in new[] { beta, gamma })
        {
            await a1.Delegate.AddPeerAsync(new AddPeerRequest { Address = peer.Address, Fingerprint = peer.Identity.Fingerprint }, a1.Auth);
            // The peers reach alpha through replica 2, so that replica pins their keys.
            await peer.AddPeerAsync(a2.Address, a1.Fingerprint);
        }
        var published = await beta.Delegate.PublishSampleAsync(beta.Auth, [a1.NodeId]);
        await Eventually.TrueAsync(() => Scalar(db, $"SELECT COUNT(*) FROM objects WHERE object_id = '{published.Id}'") == 1, "beta's call-out to reach alpha", 60);
        var envelopes = beta.Store.LoadEvents(published.Id, 0, 100).Select(e => Federation.Core.Log.Envelopes.Build(e, beta.Get<Federation.Core.Identity.NodeIdentity>().Algorithm)).ToList();

        var clients = beta.Services.GetRequiredService<PeerClients>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = clients.For(a2.Address, a1.NodeId).SubmitStream(clients.Options(a1.NodeId, Methods.SubmitStream, cts.Token));
        await stream.RequestStream.WriteAsync(new SubmitRequest());
        Assert.True(await stream.ResponseStream.MoveNext(cts.Token));

        await a1.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = beta.NodeId, State = "revoked" }, a1.Auth);

        // gamma, still a peer, relays beta's signed events to replica 2: refused, once replica 2
        // has read the roster again (it holds it in memory and rechecks it every second).
        var gammaClients = gamma.Services.GetRequiredService<PeerClients>();
        var relay = new DeliverRequest { Envelopes = { envelopes } };
        var relayed = await RefusedWithinAsync(() => gammaClients.For(a2.Address, a1.NodeId)
            .DeliverAsync(relay, gammaClients.Options(a1.NodeId, Methods.Deliver, cts.Token, request: relay)).ResponseAsync);
        Assert.Contains("is not a peer of this node", relayed.Status.Detail, StringComparison.Ordinal);

        // beta's open stream on replica 2 ends at its next message.
        await stream.RequestStream.WriteAsync(new SubmitRequest());
        var ended = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(StatusCode.PermissionDenied, ended.StatusCode);
    }

    /// <summary>
    /// Issue 20 #5: replicas hold the peer roster in memory. A peer suspended at replica 1 is
    /// refused at replica 2, which had pinned its key, within replica 2's recheck of the roster.
    /// </summary>
    [Fact]
    public async Task ASuspensionAtOneReplicaRefusesThePeersCallsAtTheOther()
    {
        using var db = new TestPostgresDatabase();
        await using var a1 = await StartOnPostgresAsync(db);
        await using var a2 = await NodeProcess.StartReplicaAsync(a1, "alpha-2");
        await using var beta = await TestNode.StartAsync("beta");
        await a1.Delegate.AddPeerAsync(new AddPeerRequest { Address = beta.Address, Fingerprint = beta.Identity.Fingerprint }, a1.Auth);
        await beta.AddPeerAsync(a2.Address, a1.Fingerprint);
        var clients = beta.Services.GetRequiredService<PeerClients>();
        var request = new ListSharedRequest();
        Task<ListSharedResponse> Call() => clients.For(a2.Address, a1.NodeId)
            .ListSharedAsync(request, clients.Options(a1.NodeId, Methods.ListShared, CancellationToken.None, request: request)).ResponseAsync;
        await Call(); // replica 2 takes beta's calls, and holds the roster with beta active

        await a1.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = beta.NodeId, State = "suspended" }, a1.Auth);

        var refused = await RefusedWithinAsync(Call);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("suspended", refused.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>The first replica of alpha, on its own database.</summary>
    private static Task<NodeProcess> StartOnPostgresAsync(TestPostgresDatabase db) => BrokerNode.StartAsync("alpha", s =>
    {
        s["Node__Database"] = "postgres";
        s["Node__Postgres__ConnectionString"] = db.ConnectionString;
    });

    /// <summary>
    /// Calls until one is refused: another replica's change to the roster takes effect at a
    /// replica within its recheck (a second), so a call just after it may still be taken.
    /// </summary>
    private static async Task<RpcException> RefusedWithinAsync(Func<Task> call)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                await call();
            }
            catch (RpcException refused)
            {
                return refused;
            }
            Assert.True(DateTime.UtcNow < until, "The other replica still took the call 15 s after the change.");
            await Task.Delay(100);
        }
    }

    internal static long LastSequence(NodeProcess node, string id)
    {
        try
        {
            return (long)node.Delegate.GetCallOut(new GetObjectRequest { Id = id }, node.Auth).LastSequence;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return 0;
        }
    }

    internal static List<(long Seq, string EventId)> OriginSequences(TestPostgresDatabase db, string id)
    {
        using var c = new NpgsqlConnection(db.ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand("SELECT seq, event_id FROM events WHERE object_id = @o ORDER BY seq", c);
        cmd.Parameters.AddWithValue("o", id);
        using var r = cmd.ExecuteReader();
        var list = new List<(long, string)>();
        while (r.Read())
        {
            list.Add((r.GetInt64(0), r.GetString(1)));
        }
        return list;
    }

    internal static long Scalar(TestPostgresDatabase db, string sql)
    {
        using var c = new NpgsqlConnection(db.ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private static SqliteConnection OpenSqlite(NodeProcess node)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = node.DbPath, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        c.Open();
        return c;
    }

    internal static List<(long Seq, string EventId)> PeerEvents(NodeProcess node, string id)
    {
        using var c = OpenSqlite(node);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, event_id FROM events WHERE object_id = $o ORDER BY seq";
        cmd.Parameters.AddWithValue("$o", id);
        using var r = cmd.ExecuteReader();
        var list = new List<(long, string)>();
        while (r.Read())
        {
            list.Add((r.GetInt64(0), r.GetString(1)));
        }
        return list;
    }

    internal static long PeerFeedRows(NodeProcess node, string id)
    {
        using var c = OpenSqlite(node);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM callout_feed WHERE object_id = $o";
        cmd.Parameters.AddWithValue("$o", id);
        return (long)cmd.ExecuteScalar()!;
    }
}

/// <summary>A database of its own on the throwaway PostgreSQL that tests/run.sh starts (FED_TEST_POSTGRES).</summary>
public sealed class TestPostgresDatabase : IDisposable
{
    public const string Unset = "FED_TEST_POSTGRES is not set: this test needs a real PostgreSQL. "
        + "Run it through `bash tests/run.sh`, which starts a throwaway cluster on loopback and sets it.";

    private readonly string _admin = Environment.GetEnvironmentVariable("FED_TEST_POSTGRES") is { Length: > 0 } cs
        ? cs
        : throw new InvalidOperationException(Unset);

    private readonly string _name = "r" + Guid.NewGuid().ToString("N")[..20];

    public TestPostgresDatabase()
    {
        Execute($"CREATE DATABASE {_name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = _name }.ConnectionString;
    }

    public string ConnectionString { get; }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
    }

    private void Execute(string sql)
    {
        using var c = new NpgsqlConnection(_admin);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }
}
