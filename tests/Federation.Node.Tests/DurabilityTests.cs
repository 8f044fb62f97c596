using Federation.Node.Delivery;


namespace Federation.Node.Tests;

/// <summary>Tests that share the one test RabbitMQ, and may stop it: never run beside each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RabbitMqCollection
{
    public const string Name = "RabbitMQ";
}

/// <summary>
/// Faults with real processes and a real broker: SIGKILL, a stopped RabbitMQ, a peer that is
/// away. Each test counts, per event id, events lost, applied twice and unexpected at every
/// peer against the origin's log, and requires all three to be zero.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class DurabilityTests
{
    private const int Seconds = 90;

    /// <summary>Polls until every peer holds exactly the origin's events for it; then asserts the three counts.</summary>
    private static async Task AssertEveryPeerHasEveryEventOnceAsync(NodeProcess origin, IReadOnlyList<NodeProcess> peers, int expectedEvents)
    {
        var until = DateTime.UtcNow.AddSeconds(Seconds);
        Ledger.Audit[] audits;
        while (true)
        {
            audits = peers.Select(p => Ledger.Compare(origin, p)).ToArray();
            if (audits.All(a => a.Clean && a.Expected == expectedEvents))
            {
                break;
            }
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"After {Seconds}s: {string.Join("; ", audits.Select(a => a.ToString()))}\n"
                    + string.Join("\n", new[] { origin }.Concat(peers).Select(n => n.LogTail())));
            }
            await Task.Delay(250);
        }
        foreach (var a in audits)
        {
            Assert.Equal(expectedEvents, a.Expected);
            Assert.Equal(0, a.Lost);
            Assert.Equal(0, a.AppliedTwice);
            Assert.Equal(0, a.Unexpected);
        }
    }

    private static async Task UntilAsync(Func<bool> condition, string what, params NodeProcess[] nodes)
    {
        var until = DateTime.UtcNow.AddSeconds(Seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"Timed out after {Seconds}s waiting for: {what}\n" + string.Join("\n", nodes.Select(n => n.LogTail())));
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task AnOriginKilledMidFanOutAndRestartedLeavesEveryPeerWithEveryEventExactlyOnce()
    {
        // Small batches make the fan-out take many calls, so the kill lands inside it.
        await using var a = await BrokerNode.StartAsync("alpha", s => s["Node__DeliveryBatchSize"] = "2");
        await using var b = await BrokerNode.StartAsync("beta");
        await using var c = await BrokerNode.StartAsync("gamma");
        await using var d = await BrokerNode.StartAsync("delta");
        NodeProcess[] peers = [b, c, d];
        await NodeProcess.PeerAsync(a, b, c, d);

        // Publish and close call-outs to all three until delivery is visibly under way, then SIGKILL.
        var published = 0;
        while (published < 20 || peers.All(p => Ledger.EventCount(p.DbPath) == 0))
        {
            Assert.True(published < 400, "Delivery never started while the origin was publishing.");
            await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
            {
                var callOut = await a.PublishAsync(peers);
                await a.CloseAsync(callOut.Id);
            }));
            published += 5;
        }
        a.Kill();

        var pendingAtKill = Ledger.Pending(a.DbPath);
        var deliveredAtKill = peers.Sum(p => Ledger.EventCount(p.DbPath));
        Assert.True(pendingAtKill > 0 && deliveredAtKill > 0,
            $"The kill must land mid fan-out: {deliveredAtKill} events had arrived, {pendingAtKill} were still queued.");

        await a.StartAgainAsync();

        await AssertEveryPeerHasEveryEventOnceAsync(a, peers, expectedEvents: published * 2);
        await UntilAsync(() => Ledger.Pending(a.DbPath) == 0, "the origin's outbox to drain", a);
    }

    [Fact]
    public async Task RabbitMqStoppedWithABacklogAndStartedAgainLosesNothing()
    {
        await using var a = await BrokerNode.StartAsync("alpha", s => s["Node__RabbitMq__QuorumQueues"] = "true");
        await using var b = await BrokerNode.StartAsync("beta");
        await using var c = await BrokerNode.StartAsync("gamma");
        NodeProcess[] peers = [b, c];
        await NodeProcess.PeerAsync(a, b, c);
        var events = 0;
        for (var i = 0; i < 3; i++, events++)
        {
            await a.PublishAsync(peers);
        }
        await AssertEveryPeerHasEveryEventOnceAsync(a, peers, events);

        // A backlog: beta is down, so its events pile up at alpha while gamma's flow.
        b.Kill();
        for (var i = 0; i < 10; i++, events++)
        {
            await a.PublishAsync(peers);
        }
        await UntilAsync(() => Ledger.Failing(a.DbPath, b.NodeId), "alpha to notice beta is down", a);

        await Broker.StopAsync();
        try
        {
            // More work while the broker is down: the outbox takes it, the bus cannot.
            for (var i = 0; i < 10; i++, events++)
            {
                await a.PublishAsync(peers);
            }
            Assert.True(Ledger.Pending(a.DbPath, b.NodeId) >= 20, "beta's backlog is queued at alpha");
            // Down long enough for alpha's dispatcher to give up handing work to the bus.
            await UntilAsync(() => a.LogContains(Dispatcher.BusDownMessage), "alpha's dispatcher to find the bus down", a);
            await b.StartAgainAsync(); // comes up while its broker is down
        }
        finally
        {
            await Broker.StartAsync();
        }

        await AssertEveryPeerHasEveryEventOnceAsync(a, peers, events);
        await UntilAsync(() => Ledger.Pending(a.DbPath) == 0, "alpha's outbox to drain", a);
        // Alpha asked for quorum queues, beta did not; both kinds are durable.
        var queues = await Broker.QueuesAsync(a.VirtualHost);
        Assert.Contains("DeliverToPeer\tquorum\ttrue", queues);
        Assert.Contains("DeliverToPeer\tclassic\ttrue", await Broker.QueuesAsync(b.VirtualHost));
    }

    [Fact]
    public async Task APeerThatWasDownWhileEventsAccruedCatchesUpByItselfWhenBack()
    {
        // Alpha's retries are minutes apart, so when beta returns only beta's own pull can bring it up to date.
        await using var a = await BrokerNode.StartAsync("alpha", s =>
        {
            s["Node__RetryBaseDelay"] = "00:10:00";
            s["Node__RetryMaxDelay"] = "01:00:00";
        });
        await using var b = await BrokerNode.StartAsync("beta");
        await NodeProcess.PeerAsync(a, b);
        var seen = await a.PublishAsync(b);
        await AssertEveryPeerHasEveryEventOnceAsync(a, [b], 1);

        b.Kill();
        await a.CloseAsync(seen.Id); // a new event of an object beta has
        for (var i = 0; i < 8; i++)
        {
            var unseen = await a.PublishAsync(b); // objects beta has never seen
            if (i % 2 == 0)
            {
                await a.CloseAsync(unseen.Id);
            }
        }
        await UntilAsync(() => Ledger.Failing(a.DbPath, b.NodeId), "alpha to notice beta is down", a);

        await b.StartAgainAsync();

        await AssertEveryPeerHasEveryEventOnceAsync(a, [b], 1 + 1 + 8 + 4);
        Assert.True(Ledger.Pending(a.DbPath, b.NodeId) > 0, "beta caught up by pulling; alpha's pushes are still waiting to retry");
    }
}
