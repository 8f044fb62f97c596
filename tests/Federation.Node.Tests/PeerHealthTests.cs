using System.Diagnostics;
using Federation.Contracts.V1;
using Federation.Node.Delivery;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace Federation.Node.Tests;

/// <summary>What an operator sees of failing peers, and how the node treats a peer that is down or overloaded.</summary>
public sealed class PeerHealthTests
{
    [Fact]
    public async Task AFailingPeerShowsSinceWhenAndHowFarBehindAndIsMarkedUnavailableAfterTheSetTime()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var c = await TestNode.StartAsync("gamma", o => o.UnavailableAfter = TimeSpan.FromMilliseconds(1));
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b, c);
        Assert.Equal(PeerHealth.Healthy, a.PeerInfo(b.NodeId).Health);
        await b.StopAsync();
        var before = DateTimeOffset.UtcNow;
        for (var i = 0; i < 3; i++)
        {
            await a.PublishAsync(b);
            await c.PublishAsync(b);
        }

        await Eventually.TrueAsync(() => a.PeerInfo(b.NodeId).Health == PeerHealth.Failing, "alpha to see beta failing");
        await Eventually.TrueAsync(() => c.PeerInfo(b.NodeId).Health == PeerHealth.Unavailable, "gamma to mark beta unavailable");
        var seen = a.PeerInfo(b.NodeId);
        Assert.Equal(3ul, seen.Pending);
        Assert.InRange(seen.OldestPendingAt.ToDateTimeOffset(), before.AddSeconds(-1), DateTimeOffset.UtcNow);
        Assert.InRange(seen.FailingSince.ToDateTimeOffset(), before.AddSeconds(-1), DateTimeOffset.UtcNow);
        Assert.NotNull(seen.NextAttemptAt);
        Assert.True(seen.Attempts >= 1);
        Assert.StartsWith("Unavailable", seen.LastError);
        var shown = await Solnet.RunAsync(c.DataDir, "peers");
        Assert.Equal(0, shown.ExitCode);
        // A table row: the health and the backlog are cells of the same line.
        Assert.Matches(@"beta .*UNAVAILABLE: failing since .*3 pending \(oldest \d+s\)", shown.Out);
        // Alpha's summary counts beta once, as failing, not also among the peers that work.
        var status = await Solnet.RunAsync(a.DataDir, "status");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("peers:       2 (1 active, 1 failing)", status.Out);

        await b.StartAgainAsync();

        await Eventually.TrueAsync(() => a.PeerInfo(b.NodeId) is { Health: PeerHealth.Healthy, Pending: 0 }, "alpha to see beta healthy again");
        await Eventually.TrueAsync(() => c.PeerInfo(b.NodeId) is { Health: PeerHealth.Healthy, Pending: 0 }, "gamma to see beta healthy again");
        var healthy = a.PeerInfo(b.NodeId);
        Assert.Null(healthy.FailingSince);
        Assert.Null(healthy.OldestPendingAt);
        Assert.NotNull(healthy.LastDeliveredAt);
        Assert.Equal("", healthy.LastError);
    }

    [Fact]
    public async Task APeersRequestToSlowDownIsHonouredAndNotTreatedAsARefusal()
    {
        var hint = TimeSpan.FromMinutes(10);
        await using var fake = await FakePeer.StartAsync(new RpcException(new global::Grpc.Core.Status(StatusCode.ResourceExhausted, "too busy"),
            new Metadata { { "retry-after-ms", ((long)hint.TotalMilliseconds).ToString() } }));
        await using var a = await TestNode.StartAsync("alpha");
        await a.Delegate.AddPeerAsync(new AddPeerRequest { Address = fake.Address, Fingerprint = fake.Fingerprint }, a.Auth);
        var sent = DateTimeOffset.UtcNow;

        await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut(), Recipients = { fake.NodeId } }, a.Auth);

        await Eventually.TrueAsync(() => a.PeerInfo(fake.NodeId).Attempts == 1, "alpha's first delivery to be turned away");
        var info = a.PeerInfo(fake.NodeId);
        // Alpha's own backoff would retry within a second; the peer asked for ten minutes.
        Assert.True(info.NextAttemptAt.ToDateTimeOffset() >= sent + hint - TimeSpan.FromSeconds(1),
            $"next attempt at {info.NextAttemptAt.ToDateTimeOffset():O}, sent at {sent:O}");
        Assert.Equal(PeerHealth.Failing, info.Health);
        Assert.StartsWith("ResourceExhausted", info.LastError);
        Assert.Equal((1ul, 0ul), (info.Pending, info.DeadLetters)); // transient: kept, not parked
        Assert.Equal(1, fake.Deliveries);
    }

    [Fact]
    public async Task APeersErrorTextIsStrippedOfControlCharactersAndBoundedBeforeItIsKeptOrShown()
    {
        // A hostile peer answers with terminal escapes (clear screen, a fake prompt) and a
        // flood of text: what alpha keeps and shows its operator must carry neither.
        var hostile = "busy\u001b[2J\u001b]0;owned\u0007\r\nsolnet$ \u202Egnp.exe" + new string('x', 20_000);
        await using var fake = await FakePeer.StartAsync(new RpcException(new global::Grpc.Core.Status(StatusCode.ResourceExhausted, hostile),
            new Metadata { { "retry-after-ms", "600000" } }));
        await using var a = await TestNode.StartAsync("alpha");
        await a.Delegate.AddPeerAsync(new AddPeerRequest { Address = fake.Address, Fingerprint = fake.Fingerprint }, a.Auth);

        await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut(), Recipients = { fake.NodeId } }, a.Auth);

        await Eventually.TrueAsync(() => a.PeerInfo(fake.NodeId).Attempts == 1, "alpha's first delivery to be turned away");
        var shown = a.PeerInfo(fake.NodeId).LastError;
        Assert.StartsWith("ResourceExhausted: busy?[2J", shown);
        Assert.DoesNotContain(shown, c => char.IsControl(c) || c == '\u202E');
        Assert.True(shown.Length <= Federation.Domain.Text.PeerTextMax + 40, $"{shown.Length} characters kept");
    }

    [Fact]
    public async Task ThePeersCircuitOpensAfterRepeatedFailuresAndCallsStopReachingIt()
    {
        await using var fake = await FakePeer.StartAsync(new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "down for maintenance")));
        await using var a = await TestNode.StartAsync("alpha", o => o.PeerCircuitBreakDuration = TimeSpan.FromMinutes(5));
        await a.Delegate.AddPeerAsync(new AddPeerRequest { Address = fake.Address, Fingerprint = fake.Fingerprint }, a.Auth);

        await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut(), Recipients = { fake.NodeId } }, a.Auth);

        await Eventually.TrueAsync(() => a.PeerInfo(fake.NodeId).CircuitOpen, "alpha's circuit to the failing peer to open");
        var reached = fake.Deliveries;
        // The next attempt finds the circuit open, makes no call, and waits for the circuit
        // (the backoff alone would retry within seconds).
        await Eventually.TrueAsync(() => a.PeerInfo(fake.NodeId).NextAttemptAt?.ToDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(4),
            "a delivery attempt against the open circuit");
        Assert.Equal(reached, fake.Deliveries);
        var info = a.PeerInfo(fake.NodeId);
        Assert.Equal((PeerHealth.Failing, 1ul, 0ul), (info.Health, info.Pending, info.DeadLetters));
        // The open circuit keeps the real cause: "circuit open" alone gives the operator nothing to fix.
        Assert.Equal("Unavailable: down for maintenance", info.LastError);
        Assert.True(info.CircuitOpen);
    }

    [Fact]
    public async Task PublishingToAPeerThatHasNotAddedThisNodeSucceedsWithAWarningAndItsDeadLetterShowsTheTitle()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await a.AddPeerAsync(b); // beta's operator has not added alpha

        var published = await Solnet.RunAsync(a.DataDir, "callout", "publish", "--title", "Picket Bistro Co, Leeds", "--target", "Bistro Co",
            "--demand", "Pay the £2,400 in stolen wages", "--to", b.Identity.Fingerprint, "--field", "id");

        Assert.Equal(0, published.ExitCode);
        var callOutId = published.Out.Trim();
        // The warning is on standard error: a script reading the id is not disturbed by it.
        Assert.Equal(a.NodeId, callOutId.Split('.')[0]);
        Assert.Contains($"solnet: warning: beta ({b.Identity.Fingerprint}) has not added this node yet: it will not receive this until its operator adds this node", published.Error);

        await Eventually.TrueAsync(() => a.PeerInfo(b.NodeId).DeadLetters == 1, "beta to refuse the call-out for good");
        var parked = Assert.Single(a.Delegate.ListDeadLetters(new ListDeadLettersRequest(), a.Auth).DeadLetters);
        Assert.Equal((callOutId, "Picket Bistro Co, Leeds"), (parked.ObjectId, parked.Title));
        var shown = await Solnet.RunAsync(a.DataDir, "deadletters");
        Assert.Equal(0, shown.ExitCode);
        Assert.Contains("event #1 of \"Picket Bistro Co, Leeds\"", shown.Out);
        Assert.DoesNotContain(callOutId, shown.Out);
    }

    [Fact]
    public async Task InvitingAPeerThatHasNotAddedThisNodeWarnsOnlyAboutThatPeer()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, c);
        await a.AddPeerAsync(b);
        await Eventually.TrueAsync(() => a.PeerInfo(c.NodeId).State == "active", "gamma to be active on alpha");
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);

        var invited = await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = draft.Id, Networks = { b.NodeId, c.NodeId } }, a.Auth);

        var warning = Assert.Single(invited.Warnings);
        Assert.StartsWith($"beta ({b.Identity.Fingerprint}) has not added this node yet", warning);
        // The warning belongs to the reply: the fight as stored and shown later carries none.
        Assert.Empty(a.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, a.Auth).Warnings);
    }

    [Fact]
    public async Task ALeaseHeldByADeadProcessIsReleasedWhenTheNodeStartsAgain()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        await a.StopAsync();
        // As if a node process had been killed mid-batch, holding the lease on beta for an hour.
        using var gone = Process.Start(new ProcessStartInfo("true"))!;
        await gone.WaitForExitAsync();
        using (var db = new SqliteConnection($"Data Source={Path.Combine(a.DataDir, "node.db")};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = """
                INSERT INTO peer_delivery (peer_id, lease_owner, lease_until) VALUES ($p, $w, $u)
                ON CONFLICT (peer_id) DO UPDATE SET lease_owner = $w, lease_until = $u
                """;
            cmd.Parameters.AddWithValue("$p", b.NodeId);
            cmd.Parameters.AddWithValue("$w", $"{Environment.MachineName}/{gone.Id}/0");
            cmd.Parameters.AddWithValue("$u", DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds());
            cmd.ExecuteNonQuery();
        }
        await a.StartAgainAsync();

        var callOut = await a.PublishAsync(b);

        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id) is not null, "delivery to beta despite the dead process's lease");
    }

    [Fact]
    public void OnlyLeasesOfProcessesThatAreGoneFromThisMachineCountAsGone()
    {
        using var alive = Process.GetCurrentProcess();
        Assert.False(DeliveryLeases.OwnerIsGone(DeliveryLeases.Owner));
        Assert.True(DeliveryLeases.OwnerIsGone($"{Environment.MachineName}/{Environment.ProcessId}/an-earlier-run"));
        Assert.False(DeliveryLeases.OwnerIsGone($"another-machine/{alive.Id}/x"));
        Assert.False(DeliveryLeases.OwnerIsGone("not an owner"));
        Assert.False(DeliveryLeases.OwnerIsGone($"{Environment.MachineName}/1/x")); // init is always running
    }

    [Fact]
    public async Task ReplayingADeadLetterThatIsNotThereIsRefusedClearly()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);

        var neither = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.ReplayDeadLetterAsync(new ReplayDeadLetterRequest(), a.Auth).ResponseAsync);
        var both = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.ReplayDeadLetterAsync(new ReplayDeadLetterRequest { Id = 1, Peer = b.Identity.Fingerprint }, a.Auth).ResponseAsync);
        var unknownId = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.ReplayDeadLetterAsync(new ReplayDeadLetterRequest { Id = 42 }, a.Auth).ResponseAsync);
        var nonePending = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.ReplayDeadLetterAsync(new ReplayDeadLetterRequest { Peer = b.Identity.Fingerprint }, a.Auth).ResponseAsync);
        var notAPeer = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.ListDeadLettersAsync(new ListDeadLettersRequest { Peer = new string('7', 32) }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.InvalidArgument, neither);
        Status.Is(StatusCode.InvalidArgument, both);
        Status.Is(StatusCode.NotFound, unknownId);
        Assert.Contains("no dead letter 42", unknownId.Status.Detail);
        Status.Is(StatusCode.NotFound, nonePending);
        Status.Is(StatusCode.NotFound, notAPeer);
        Assert.Contains("not a peer", notAPeer.Status.Detail);
        Assert.Equal(0, a.Store.Count("outbox"));
    }
}
