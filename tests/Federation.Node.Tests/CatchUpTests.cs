using Federation.Contracts.V1;
using Federation.Node.Delivery;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>Nothing relies on a push having arrived: a node pulls what is shared with it.</summary>
public sealed class CatchUpTests
{
    [Fact]
    public async Task APeerThatMissesEveryPushFindsNeverSeenObjectsOnItsPeriodicCatchUp()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", o => o.CatchUpInterval = TimeSpan.FromMilliseconds(500));
        await TestNode.PeerAsync(a, b);
        await a.CutAsync(b); // every push from alpha to beta fails
        for (var i = 0; i < 3; i++)
        {
            var callOut = await a.PublishAsync(b);
            if (i == 0)
            {
                await a.CloseAsync(callOut.Id);
            }
        }

        await Eventually.TrueAsync(() => Ledger.Compare(a, b) is { Clean: true, Expected: 4 }, "beta to pull all four events");
        var audit = Ledger.Compare(a, b);
        Assert.Equal((0, 0, 0), (audit.Lost, audit.AppliedTwice, audit.Unexpected));
        Assert.True(Ledger.Pending(a.Store.Path, b.NodeId) > 0, "alpha's pushes never got through");
        Assert.NotNull(b.PeerInfo(a.NodeId).CaughtUpAt);
    }

    [Fact]
    public async Task WhenAFailingPeerAnswersAgainThisNodeCatchesUpFromIt()
    {
        // No periodic passes: only the reconnection can start this catch-up.
        await using var a = await TestNode.StartAsync("alpha", o => o.CatchUpInterval = TimeSpan.Zero);
        await using var b = await TestNode.StartAsync("beta", o => o.CatchUpInterval = TimeSpan.Zero);
        await TestNode.PeerAsync(a, b);
        await a.CutAsync(b);
        await b.CutAsync(a); // beta's own pushes to alpha keep failing throughout
        var fromBeta = await b.PublishAsync(a);
        await a.PublishAsync(b);
        await Eventually.TrueAsync(() => Ledger.Failing(a.Store.Path, b.NodeId), "alpha's delivery to beta to fail");

        await a.CutAsync(b, cut: false); // alpha reaches beta again

        await Eventually.TrueAsync(() => a.Store.GetObject(fromBeta.Id) is not null, "alpha to pull beta's call-out once beta answers");
        var audit = Ledger.Compare(b, a);
        Assert.Equal((1, 0, 0, 0), (audit.Expected, audit.Lost, audit.AppliedTwice, audit.Unexpected));
        Assert.True(Ledger.Pending(b.Store.Path, a.NodeId) > 0, "beta's push never got through");
    }

    [Fact]
    public async Task ANodeWhoseBusIsSlowToStartStillCatchesUpOnStart()
    {
        // No periodic passes: only the pass asked for on start can bring the call-out.
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", o => o.CatchUpInterval = TimeSpan.Zero);
        await TestNode.PeerAsync(a, b);
        await b.StopAsync();
        await a.CutAsync(b); // alpha's pushes never reach beta
        var callOut = await a.PublishAsync(b);

        // The bus's start takes a second, so the request made on start meets a bus that is
        // not ready yet; a message published then is dropped by MassTransit, not queued.
        b.Customize = builder => SlowBusStart.Add(builder, TimeSpan.FromSeconds(1));
        await b.StartAgainAsync();

        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id) is not null, "beta's catch-up on start to bring the call-out");
        Assert.True(Ledger.Pending(a.Store.Path, b.NodeId) > 0, "alpha's push never got through");
    }

    [Fact]
    public async Task ListSharedAnswersOnlyWithWhatTheCallerIsInTheAudienceOf()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var toBeta = await a.PublishAsync(b);
        var toGamma = await a.PublishAsync(c);
        var toBoth = await a.PublishAsync(b, c);
        await a.CloseAsync(toBoth.Id);
        await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "draft", Target = new Target { Name = "Acme" } }, a.Auth);

        var all = await a.Peer.ListSharedAsync(new ListSharedRequest(), b.AsPeerOf(a, Methods.ListShared, new ListSharedRequest()));
        Assert.Equal(new[] { toBeta.Id, toBoth.Id }.Order(), all.Objects.Select(o => o.ObjectId).Order());
        Assert.Equal(2ul, all.Objects.Single(o => o.ObjectId == toBoth.Id).LastSequence);
        Assert.Equal("", all.NextCursor);

        // Page by page (the draft and gamma's call-out are looked at but not shown).
        var paged = new List<string>();
        var cursor = "";
        var pages = 0;
        do
        {
            var page = await a.Peer.ListSharedAsync(new ListSharedRequest { AfterCursor = cursor, Limit = 1 }, b.AsPeerOf(a, Methods.ListShared, new ListSharedRequest { AfterCursor = cursor, Limit = 1 }));
            paged.AddRange(page.Objects.Select(o => o.ObjectId));
            cursor = page.NextCursor;
            Assert.True(++pages < 10, "the cursor must advance");
        }
        while (cursor.Length > 0);
        Assert.Equal(all.Objects.Select(o => o.ObjectId).Order(), paged.Order());
        Assert.DoesNotContain(toGamma.Id, paged);

        var bad = await Assert.ThrowsAsync<RpcException>(() =>
            a.Peer.ListSharedAsync(new ListSharedRequest { AfterCursor = "not a cursor" }, b.AsPeerOf(a, Methods.ListShared, new ListSharedRequest { AfterCursor = "not a cursor" })).ResponseAsync);
        Status.Is(StatusCode.InvalidArgument, bad);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => a.Peer.ListSharedAsync(new ListSharedRequest()).ResponseAsync);
        Status.Is(StatusCode.Unauthenticated, anonymous);
    }
}
