using System.Diagnostics;
using Federation.Faults.Tests.Harness;
using Federation.Node.Delivery;
using Grpc.Core;
using Xunit.Abstractions;

namespace Federation.Faults.Tests;

/// <summary>
/// Each scenario: four (long profile: six) nodes as processes, on a real RabbitMQ, with a
/// fault proxy on every link; the workload runs while a fault happens; the fault heals;
/// the checker must find nothing lost, nothing applied twice, nothing unexpected, no gap
/// and no backlog, within the profile's bound.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class Scenarios(FederationFixture fixture, ITestOutputHelper output) : Suite(fixture, output)
{
    [Fact]
    public async Task OriginKilledAfterCommitBeforePublish()
    {
        var (c, w) = await BeginAsync();
        var alpha = c.Nodes[0];

        // Alpha's broker connection goes silent: its changes commit, their doorbells cannot be published.
        c.Amqp[0].Blackhole(true);
        await WhileWorkingAsync(w, async () =>
        {
            await w.PublishFromAsync(alpha, 5);
            await HoldAsync();
        });
        var behind = Checker.Check(c.Nodes, w);
        Assert.True(behind.Lost > 0 && Sql.Outbox(alpha) > 0, $"Alpha's committed events must still be undelivered when it dies: {behind}");
        alpha.Kill();

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await alpha.StartAsync();
        await ConvergeAsync(nameof(OriginKilledAfterCommitBeforePublish), c, w, healed);
    }

    [Fact]
    public async Task OriginKilledAfterPublishBeforeTheBrokerConfirms()
    {
        var (c, w) = await BeginAsync();
        var alpha = c.Nodes[0];

        // The broker gets alpha's publishes, alpha never hears back: no confirm, no delivery.
        c.Amqp[0].HoldReplies = true;
        await w.PublishFromAsync(alpha, 5);
        var vhost = alpha.Settings["Node__RabbitMq__VirtualHost"];
        await Eventually.UntilAsync(async () => (await Broker.QueuesAsync(vhost)).Split('\n').Any(l => l.Split('\t') is [_, _, var n] && n.Trim() is not ("0" or "")),
            TimeSpan.FromSeconds(60), "alpha's doorbells to reach the broker", c.Logs);
        alpha.Kill();

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await alpha.StartAsync();
        await ConvergeAsync(nameof(OriginKilledAfterPublishBeforeTheBrokerConfirms), c, w, healed);
    }

    [Fact]
    public async Task OriginKilledMidFanOut()
    {
        // Small batches over slow links: the fan-out takes many calls, so the kill lands inside it.
        var (c, w) = await BeginAsync();
        var alpha = c.Nodes[0];
        var peers = c.Nodes.Skip(1).ToList();
        foreach (var peer in peers)
        {
            c.Link(alpha, peer).BytesPerSecond = 3000;
        }
        var before = peers.Sum(p => Sql.EventsOf(p, alpha));
        await w.PublishFromAsync(alpha, 15);
        await UntilAsync(() => peers.Sum(p => Sql.EventsOf(p, alpha)) > before, "alpha's fan-out to start", c);
        alpha.Kill();
        Assert.True(Sql.Outbox(alpha) > 0, "the kill must land mid fan-out: alpha's outbox still holds items");

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await alpha.StartAsync();
        await ConvergeAsync(nameof(OriginKilledMidFanOut), c, w, healed);
    }

    [Fact]
    public async Task PeerKilledMidApply()
    {
        var (c, w) = await BeginAsync();
        var (alpha, beta) = (c.Nodes[0], c.Nodes[1]);
        c.Link(alpha, beta).BytesPerSecond = 3000;
        var before = Sql.EventsOf(beta, alpha);
        await w.PublishFromAsync(alpha, 15);
        // Beta is applying alpha's batches as they trickle in: kill it between two of them, or inside one.
        await UntilAsync(() => Sql.EventsOf(beta, alpha) > before, "beta to start applying alpha's events", c);
        beta.Kill();
        var behind = Checker.Check(c.Nodes, w);
        Assert.True(behind.Lost > 0, $"beta must die before it has everything: {behind}");

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await beta.StartAsync();
        await ConvergeAsync(nameof(PeerKilledMidApply), c, w, healed);
    }

    /// <summary>Alpha and gamma run on quorum queues, beta and delta on classic ones: one kill tries both.</summary>
    [Fact]
    public async Task RabbitMqKilledWithABacklog()
    {
        var (c, w) = await BeginAsync();
        var delta = c.Nodes[3];

        // A backlog: delta is cut off, so everything for it piles up in the others' outboxes.
        c.CutOff(delta, true);
        var ackedWhileBrokerDown = 0;
        await WhileWorkingAsync(w, async () =>
        {
            await UntilAsync(() => Sql.Failing(c.Nodes[0], delta), "alpha to find delta unreachable", c);
            Broker.Kill();
            try
            {
                var before = w.AckedCount;
                await HoldAsync();
                ackedWhileBrokerDown = w.AckedCount - before;
            }
            finally
            {
                await Broker.StartAgainAsync();
            }
        });
        Assert.True(ackedWhileBrokerDown > 0, "nodes keep accepting changes while their broker is down");
        Assert.Contains("\tquorum\t", await Broker.QueuesAsync(c.Nodes[0].Settings["Node__RabbitMq__VirtualHost"]));
        Assert.Contains("\tclassic\t", await Broker.QueuesAsync(c.Nodes[1].Settings["Node__RabbitMq__VirtualHost"]));

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await ConvergeAsync(nameof(RabbitMqKilledWithABacklog), c, w, healed);
    }

    [Fact]
    public async Task APeerCutOffThenRestored()
    {
        var (c, w) = await BeginAsync();
        var delta = c.Nodes[3];

        c.CutOff(delta, true);
        await WhileWorkingAsync(w, async () =>
        {
            await HoldAsync();
            await UntilAsync(() => c.Nodes.Take(3).Any(n => Sql.Failing(n, delta)), "delta's peers to find it unreachable", c);
        });

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await ConvergeAsync(nameof(APeerCutOffThenRestored), c, w, healed);
    }

    /// <summary>
    /// Issue 18: alpha and delta share no path while the fault lasts (delta on PostgreSQL).
    /// What alpha owes delta is carried as a bundle, and delta's acknowledgement carried back:
    /// delta holds alpha's events and alpha's queue to delta is settled before any link heals;
    /// carried twice, nothing changes; healed, nothing is lost and nothing applied twice.
    /// </summary>
    [Fact]
    public async Task TwoNodesWithNoPathBetweenThemCarryABundleAndItsAcknowledgement()
    {
        var (c, w) = await BeginAsync();
        var alpha = c.Nodes[0];
        var delta = c.Nodes[FederationFixture.PostgresNode];

        c.Link(alpha, delta).SetCut(true);
        c.Link(delta, alpha).SetCut(true);
        await WhileWorkingAsync(w, async () =>
        {
            await w.PublishFromAsync(alpha, 3);
            await HoldAsync();
            await UntilAsync(() => Sql.Failing(alpha, delta), "alpha to find delta unreachable", c);
        });

        var held = Sql.EventsOf(delta, alpha);
        var bundle = await alpha.Delegate.ExportBundleAsync(new Federation.Contracts.V1.ExportBundleRequest { Peer = delta.Fingerprint }, alpha.Auth);
        Assert.True(bundle.Items > 0, "alpha's queue to delta holds the events published while they were cut apart");
        var imported = await delta.Delegate.ImportBundleAsync(new Federation.Contracts.V1.ImportBundleRequest { Bundle = bundle.Bundle }, delta.Auth);
        Assert.Empty(imported.Refused);
        Assert.True(imported.Applied > 0 && Sql.EventsOf(delta, alpha) >= held + imported.Applied,
            $"the bundle to bring alpha's events to delta: applied {imported.Applied}, duplicates {imported.Duplicates}, held {imported.Held}");
        var again = await delta.Delegate.ImportBundleAsync(new Federation.Contracts.V1.ImportBundleRequest { Bundle = bundle.Bundle }, delta.Auth);
        Assert.Equal(0u, again.Applied);

        var pending = Sql.Scalar(alpha, "SELECT COUNT(*) FROM outbox WHERE peer_id = @p", ("@p", delta.NodeId));
        var settled = await alpha.Delegate.ImportBundleAsync(new Federation.Contracts.V1.ImportBundleRequest { Bundle = imported.Acknowledgement }, alpha.Auth);
        Assert.True(settled.CursorMovedPast > 0, "delta's acknowledgement to settle alpha's queue to it");
        Assert.True(Sql.Scalar(alpha, "SELECT COUNT(*) FROM outbox WHERE peer_id = @p", ("@p", delta.NodeId)) < pending,
            "what the acknowledgement settled to leave alpha's queue");

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await ConvergeAsync(nameof(TwoNodesWithNoPathBetweenThemCarryABundleAndItsAcknowledgement), c, w, healed);
    }

    /// <summary>
    /// Issue 18 #2: alpha and gamma (sealed at rest) are partitioned from each other while both
    /// reach beta, which both named as their relay. Alpha's call-out reaches gamma, and gamma's
    /// pledge reaches alpha (and alpha's event recording it reaches gamma), through beta within
    /// a bound, with the workload running; healed, nothing is lost or applied twice.
    /// </summary>
    [Fact]
    public async Task AAndCPartitionedWhileBothReachBTheirNamedRelay()
    {
        var (c, w) = await BeginAsync();
        var (alpha, beta, gamma) = (c.Nodes[0], c.Nodes[1], c.Nodes[2]);
        // Relay after 2 s of failure rather than 10 minutes; ReadyAsync puts the baseline back.
        await Task.WhenAll(new[] { alpha, beta, gamma }.Select(n => Cluster.RestartAsync(n, s =>
        {
            s["Node__Relay__After"] = "00:00:02";
            s["Node__Relay__Interval"] = "00:00:00.500";
        })));
        await AllowRelayAsync(alpha, beta, true);
        await AllowRelayAsync(gamma, beta, true);
        try
        {
            bool Heard(FaultNode at, FaultNode allowing) => Sql.Scalar(at,
                "SELECT COUNT(*) FROM peer_relay_offers WHERE node_id = @n AND relays LIKE @r AND sealing_key IS NOT NULL",
                ("@n", allowing.NodeId), ("@r", $"%{beta.NodeId}%")) == 1;
            await UntilAsync(() => Heard(alpha, gamma) && Heard(gamma, alpha) && Heard(beta, alpha) && Heard(beta, gamma),
                "alpha, beta and gamma to hear that alpha and gamma allow beta to relay", c);

            c.Link(alpha, gamma).SetCut(true);
            c.Link(gamma, alpha).SetCut(true);
            await WhileWorkingAsync(w, async () =>
            {
                var request = new Federation.Contracts.V1.PublishCallOutRequest { Content = Federation.Testing.Samples.CallOut() };
                request.Recipients.Add(gamma.NodeId);
                var callOut = await alpha.Delegate.PublishCallOutAsync(request, alpha.Auth);
                long Events(FaultNode at) => Sql.Scalar(at, "SELECT COUNT(*) FROM events WHERE object_id = @o", ("@o", callOut.Id));
                var bound = TimeSpan.FromSeconds(60);
                await UntilAsync(() => Events(gamma) >= 1, "alpha's call-out to reach gamma through beta", c, bound);
                await gamma.Delegate.RespondToCallOutAsync(new Federation.Contracts.V1.RespondToCallOutRequest
                {
                    CallOutId = callOut.Id,
                    Response = new Federation.Contracts.V1.CallOutResponse { Kind = Federation.Contracts.V1.ResponseKind.Pledge, PlannedDate = "2026-12-20", Place = "Leeds" },
                }, gamma.Auth);
                await UntilAsync(() => Events(alpha) >= 2 && Events(gamma) >= 2, "gamma's pledge to reach alpha, and its event to reach gamma, through beta", c, bound);
                Assert.Equal(0, Sql.Scalar(beta, "SELECT COUNT(*) FROM objects WHERE object_id = @o", ("@o", callOut.Id))); // carried, not held
            });
        }
        finally
        {
            await AllowRelayAsync(alpha, beta, false);
            await AllowRelayAsync(gamma, beta, false);
        }

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await ConvergeAsync(nameof(AAndCPartitionedWhileBothReachBTheirNamedRelay), c, w, healed);
    }

    private static Task AllowRelayAsync(FaultNode node, FaultNode relay, bool allowed) =>
        node.Delegate.SetPeerRelayAsync(new Federation.Contracts.V1.SetPeerRelayRequest { Network = relay.Fingerprint, Allowed = allowed }, node.Auth).ResponseAsync;

    [Fact]
    public async Task TheFederationPartitionedInHalvesThenHealed()
    {
        var (c, w) = await BeginAsync();

        var half = c.Nodes.Take(c.Nodes.Count / 2).ToList();
        c.Partition(half);
        await WhileWorkingAsync(w, async () =>
        {
            await HoldAsync();
            // Evidence the partition held: work on one side has not reached the other.
            await UntilAsync(() => Checker.Check(c.Nodes, w).Lost > 0, "the halves to diverge", c);
        });

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await ConvergeAsync(nameof(TheFederationPartitionedInHalvesThenHealed), c, w, healed);
    }

    [Fact]
    public async Task DelayAndLossSoDeadlinesExpireAfterTheReceiverApplied()
    {
        var (c, w) = await BeginAsync();
        // 200 ms each way makes every call take over 400 ms: past this deadline, though the receiver has applied it.
        // Alpha and beta get it (the next scenario restores the usual deadline).
        await Task.WhenAll(c.Nodes.Take(2).Select(n => Cluster.RestartAsync(n, s => s["Node__PeerCallTimeout"] = "00:00:00.400")));

        foreach (var link in c.Links)
        {
            link.Delay = TimeSpan.FromMilliseconds(200);
            link.ResetChance = 0.05;
        }
        await WhileWorkingAsync(w, async () =>
        {
            await HoldAsync();
            // Evidence: an event a receiver holds that its sender still has queued (the call "failed" after it was applied).
            await UntilAsync(() => AppliedButUnacknowledged(c.Nodes.Take(2), c) > 0, "a delivery applied by its receiver after the sender's deadline", c);
            await UntilAsync(() => c.Nodes.Take(2).Any(n => n.LogContains("DeadlineExceeded")), "a deadline to expire", c);
        });
        Assert.True(c.Links.Sum(l => l.Resets) > 0, "the lossy links reset connections");

        c.HealNetwork();
        var healed = Stopwatch.StartNew();
        await ConvergeAsync(nameof(DelayAndLossSoDeadlinesExpireAfterTheReceiverApplied), c, w, healed);
    }

    private static long AppliedButUnacknowledged(IEnumerable<FaultNode> senders, Cluster c)
    {
        long count = 0;
        foreach (var sender in senders)
        {
            foreach (var receiver in c.Nodes.Where(n => n != sender))
            {
                // What the sender still has queued for the receiver (past its acknowledged cursor)…
                var pending = new List<(string ObjectId, long Sequence)>();
                using (var conn = sender.OpenDatabase())
                using (var cmd = Sql.Command(conn, null, """
                    SELECT o.object_id, o.seq FROM outbox o
                    WHERE o.peer_id = @p AND o.kind = 1
                      AND o.id > COALESCE((SELECT delivered_id FROM peer_delivery WHERE peer_id = @p), 0)
                    """, ("@p", receiver.NodeId)))
                using (var r = cmd.ExecuteReader())
                {
                    while (r.Read())
                    {
                        pending.Add((r.GetString(0), Convert.ToInt64(r.GetValue(1))));
                    }
                }
                // …that the receiver holds already.
                foreach (var (objectId, sequence) in pending)
                {
                    count += Sql.Scalar(receiver, "SELECT COUNT(*) FROM events WHERE object_id = @o AND seq = @s", ("@o", objectId), ("@s", sequence));
                }
            }
        }
        return count;
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("disk")]
    public async Task RabbitMqResourceAlarm(string alarm)
    {
        var (c, w) = await BeginAsync();

        // The broker blocks every publisher until the alarm clears.
        Task Raise() => alarm == "memory"
            ? Broker.CtlAsync("set_vm_memory_high_watermark", "0.0000001")
            : Broker.CtlAsync("set_disk_free_limit", "1000000000000000");
        Task Clear() => alarm == "memory"
            ? Broker.CtlAsync("set_vm_memory_high_watermark", "0.4")
            : Broker.CtlAsync("set_disk_free_limit", "50000000");
        var busDown = c.Nodes.Sum(n => n.LogCount(Dispatcher.BusDownMessage));
        await Raise();
        Stopwatch healed;
        try
        {
            await Eventually.UntilAsync(async () => (await Broker.AlarmsAsync()).Contains(alarm, StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), $"the broker's {alarm} alarm", c.Logs);
            // Longer than the dispatcher's publish timeout (10 s), so a blocked publish gives up and says so.
            await WhileWorkingAsync(w, () => HoldAsync(atLeast: TimeSpan.FromSeconds(12)));
            await UntilAsync(() => c.Nodes.Sum(n => n.LogCount(Dispatcher.BusDownMessage)) > busDown,
                "a node to find its broker refusing work", c);
        }
        finally
        {
            await Clear();
            healed = Stopwatch.StartNew();
        }
        await Eventually.UntilAsync(async () => !(await Broker.AlarmsAsync()).Contains(alarm, StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), $"the broker's {alarm} alarm to clear", c.Logs);

        await ConvergeAsync($"{nameof(RabbitMqResourceAlarm)}({alarm})", c, w, healed);
    }

    [Fact]
    public async Task ANodeWithASkewedClockIsRefusedThenRecovers()
    {
        var (c, w) = await BeginAsync();
        var (alpha, delta) = (c.Nodes[0], c.Nodes[3]);

        // Delta's clock falls ten minutes behind (past the five-minute window): its calls, and calls to it, are refused.
        await Cluster.RestartAsync(delta, s => s["Node__ClockOffset"] = "-00:10:00");
        await WhileWorkingAsync(w, async () =>
        {
            await HoldAsync();
            await UntilAsync(() => Sql.LastError(alpha, delta).Contains("from this node's clock", StringComparison.Ordinal),
                "alpha's calls to delta to be refused for the clock, with a clear reason", c);
            // Ten minutes behind may put delta's clock before its own node key's certificate,
            // when that key was certified minutes ago (as after the seizure drill): then delta
            // refuses to sign, saying why, rather than send what its peers would refuse for
            // good. Otherwise what it signs goes, and its calls are refused for its clock.
            var own = await w.TryPublishOnceAsync(delta);
            if (own is { StatusCode: StatusCode.FailedPrecondition } && own.Status.Detail.Contains("cannot sign now", StringComparison.Ordinal))
            {
                Assert.Contains("clock", own.Status.Detail, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(own is null, $"delta's write while its clock is behind: {own?.Status.ToString()}");
                await UntilAsync(() => c.Nodes.Take(3).Any(n => Sql.LastError(delta, n).Contains("clock", StringComparison.Ordinal)),
                    "delta's calls to be refused for its clock", c);
            }
        });
        // A clock refusal is temporary: nothing was parked for good.
        Assert.All(c.Nodes, n => Assert.Equal(0, Sql.Scalar(n, "SELECT COUNT(*) FROM dead_letters")));

        // The operator puts the clock right.
        var healed = Stopwatch.StartNew();
        await Cluster.RestartAsync(delta, s => s.Remove("Node__ClockOffset"));
        await ConvergeAsync(nameof(ANodeWithASkewedClockIsRefusedThenRecovers), c, w, healed);
    }

    [Fact]
    public async Task PostgreSqlKilledMidTransaction()
    {
        var (c, w) = await BeginAsync();
        var delta = c.Nodes[FederationFixture.PostgresNode];
        Assert.True(delta.OnPostgres);

        var failedBefore = w.Failed;
        int writing;
        await WhileWorkingAsync(w, async () =>
        {
            // Delta publishes without pause on top of the workload, so its database is
            // nearly always inside a transaction that has written something.
            using var stop = new CancellationTokenSource();
            var publishing = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await w.PublishFromAsync(delta, 1);
                }
            });
            try
            {
                // Its database now: after the seizure drill, delta runs on the database it moved to.
                writing = await KillInsideAWriteAsync(Database, delta.DatabaseName, TimeSpan.FromSeconds(90));
                // Delta keeps being asked to write while its database is gone: those calls fail
                // (not acknowledged), with a status that says to try again, not "internal error".
                var refused = await w.TryPublishOnceAsync(delta);
                Assert.True(refused is { StatusCode: StatusCode.Unavailable }, $"a write while the database is down: {refused?.Status.ToString() ?? "acknowledged"}");
                Assert.Contains("database", refused!.Status.Detail, StringComparison.Ordinal);
                await HoldAsync();
                Assert.True(w.Failed > failedBefore, "delta's writes fail while PostgreSQL is down");
            }
            finally
            {
                await stop.CancelAsync();
                await publishing;
            }
            Assert.True(writing > 0, "the kill must land while a transaction at delta's database has written and not yet finished");
            Assert.True(delta.Running, $"delta must outlive its database going away\n{delta.LogTail()}");
            await Database.StartAgainAsync();
        });

        var healed = Stopwatch.StartNew();
        await ConvergeAsync(nameof(PostgreSqlKilledMidTransaction), c, w, healed);
    }

    /// <summary>
    /// Watches <paramref name="database"/>'s backends and SIGKILLs the cluster the moment
    /// one holds a transaction id (it has written, and not committed or rolled back yet).
    /// Returns how many such transactions were seen just before the kill.
    /// </summary>
    private static async Task<int> KillInsideAWriteAsync(Postgres pg, string database, TimeSpan timeout)
    {
        await using var watch = new Npgsql.NpgsqlConnection(pg.AdminConnectionString);
        await watch.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = @db AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()", watch);
        cmd.Parameters.AddWithValue("db", database);
        await cmd.PrepareAsync();
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            var open = Convert.ToInt32(await cmd.ExecuteScalarAsync());
            if (open > 0)
            {
                pg.Kill();
                return open;
            }
        }
        throw new TimeoutException($"No write transaction seen at {database} within {timeout.TotalSeconds:0}s.\n{pg.Tail()}");
    }

    [Fact]
    public async Task ANodePausedForLongerThanTheDeadlines()
    {
        var (c, w) = await BeginAsync();
        var gamma = c.Nodes[2];

        gamma.Pause();
        try
        {
            await WhileWorkingAsync(w, async () =>
            {
                // Three times the peer call deadline (5 s) at least.
                await HoldAsync(atLeast: TimeSpan.FromSeconds(15));
                // Calls to gamma hang (its sockets still accept) until their deadline.
                await UntilAsync(() => c.Nodes.Where(n => n != gamma).Any(n => Sql.Failing(n, gamma)), "gamma's peers to time out on it", c);
            });
        }
        finally
        {
            gamma.Resume();
        }

        var healed = Stopwatch.StartNew();
        await ConvergeAsync(nameof(ANodePausedForLongerThanTheDeadlines), c, w, healed);
    }

    /// <summary>
    /// Issue 24: a node restarted without its storage passphrase starts locked, and keeps
    /// federating: it takes and sends deliveries and submissions while the workload runs, and
    /// answers a read of a sealed field that it is locked. Its participants-only events wait
    /// for the unlock (docs/adr/0025); once unlocked, nothing is lost.
    /// </summary>
    [Fact]
    public async Task ALockedNodeKeepsFederating()
    {
        var (c, w) = await BeginAsync();
        var gamma = c.Nodes[FederationFixture.SealedNode];
        var draft = await gamma.Delegate.DraftFightAsync(new Federation.Contracts.V1.DraftFightRequest
        {
            Title = "Sealed details", Target = new Federation.Contracts.V1.Target { Name = "Acme Lettings" },
        }, gamma.Auth);
        await gamma.Delegate.SetLocalDetailsAsync(new Federation.Contracts.V1.SetLocalDetailsRequest
        {
            FightId = draft.Id, Details = new Federation.Contracts.V1.LocalDetails { AffectedPerson = "Rosa Okonkwo-Bell" },
        }, gamma.Auth);

        await Cluster.RestartAsync(gamma, s => s.Remove(FaultNode.UnlockAtStart.Key));
        Assert.Equal(Federation.Contracts.V1.StorageState.Locked, gamma.Delegate.GetNodeInfo(new Federation.Contracts.V1.GetNodeInfoRequest(), gamma.Auth).Storage);
        var others = c.Nodes.Where(n => n != gamma).ToList();
        var fromGamma = others.Sum(n => Sql.EventsOf(n, gamma));
        var atGamma = others.Sum(n => Sql.EventsOf(gamma, n));
        var submitted = w.AckedSubmissions.Count(s => s.Submitter == FederationFixture.SealedNode);
        await WhileWorkingAsync(w, async () =>
        {
            await w.PublishFromAsync(gamma, 3);
            await HoldAsync();
            // Deliveries flow both ways, and gamma's submissions are taken, while it is locked.
            await UntilAsync(() => others.Sum(n => Sql.EventsOf(n, gamma)) > fromGamma, "gamma's events to reach its peers while it is locked", c);
            await UntilAsync(() => others.Sum(n => Sql.EventsOf(gamma, n)) > atGamma, "its peers' events to reach gamma while it is locked", c);
            await UntilAsync(() => w.AckedSubmissions.Count(s => s.Submitter == FederationFixture.SealedNode) > submitted,
                "a submission of gamma's to be acknowledged while it is locked", c);
        });
        var locked = Assert.Throws<RpcException>(() =>
            gamma.Delegate.GetLocalDetails(new Federation.Contracts.V1.GetObjectRequest { Id = draft.Id }, gamma.Auth));
        Assert.Equal(StatusCode.FailedPrecondition, locked.StatusCode);
        Assert.Contains("The node is locked", locked.Status.Detail);

        var healed = Stopwatch.StartNew();
        await gamma.Delegate.UnlockStorageAsync(new Federation.Contracts.V1.UnlockStorageRequest { Passphrase = FaultNode.StoragePassphrase }, gamma.Auth);
        await ConvergeAsync(nameof(ALockedNodeKeepsFederating), c, w, healed);
        Assert.Equal("Rosa Okonkwo-Bell", gamma.Delegate.GetLocalDetails(new Federation.Contracts.V1.GetObjectRequest { Id = draft.Id }, gamma.Auth).AffectedPerson);
    }
}
