using Federation.Contracts.V1;
using Grpc.Core;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>The delegate's inbox on real nodes: the query and the streaming subscription.</summary>
public sealed class InboxTests
{
    [Fact]
    public async Task TheInboxFiltersByTheIssuersRegionAndListsTheSoonestWindowFirst()
    {
        await using var leeds = await TestNode.StartAsync("leeds", "--region", "Leeds");
        await using var york = await TestNode.StartAsync("york", "--region", "York");
        await using var b = await TestNode.StartAsync("beta", "--region", "Hull");
        await TestNode.PeerAsync(leeds, york, b);
        var later = Samples.CallOut("Leeds picket next week");
        later.WindowStart = In(TimeSpan.FromDays(7));
        var sooner = Samples.CallOut("York call-in tomorrow");
        sooner.WindowStart = In(TimeSpan.FromDays(1));
        sooner.ActionTypes.Clear();
        sooner.ActionTypes.Add(ActionType.CallInDay);
        var fromLeeds = await PublishAsync(leeds, later, b);
        var fromYork = await PublishAsync(york, sooner, b);
        await ReachedAsync(b, fromLeeds.Id, 1);
        await ReachedAsync(b, fromYork.Id, 1);

        var all = (await b.Delegate.QueryInboxAsync(new InboxQuery(), b.Auth)).CallOuts;
        var inYork = (await b.Delegate.QueryInboxAsync(new InboxQuery { Region = "york" }, b.Auth)).CallOuts;
        var pickets = (await b.Delegate.QueryInboxAsync(new InboxQuery { ActionTypes = { ActionType.Picket }, State = InboxStateFilter.Open }, b.Auth)).CallOuts;

        Assert.Equal(new[] { fromYork.Id, fromLeeds.Id }, all.Select(c => c.Id));
        Assert.Equal(new[] { fromYork.Id }, inYork.Select(c => c.Id));
        Assert.Equal(new[] { fromLeeds.Id }, pickets.Select(c => c.Id));
        // The issuer's inbox holds what others sent it, not its own call-outs.
        Assert.Empty((await leeds.Delegate.QueryInboxAsync(new InboxQuery(), leeds.Auth)).CallOuts);
    }

    [Fact]
    public async Task ABadInboxQueryIsRefusedWithAClearMessage()
    {
        await using var a = await TestNode.StartAsync("alpha");

        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.QueryInboxAsync(new InboxQuery
        {
            WindowFrom = In(TimeSpan.FromDays(2)),
            WindowTo = In(TimeSpan.FromDays(1)),
        }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains("ends before it starts", ex.Status.Detail);
    }

    [Fact]
    public async Task TheSubscriptionStreamsNewAndChangedCallOutsInOrder()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = b.Delegate.SubscribeInbox(new SubscribeInboxRequest(), b.Auth, cancellationToken: cts.Token);
        await call.ResponseHeadersAsync; // subscribed

        var published = await PublishAsync(a, to: b);
        var content = published.Content.Clone();
        content.SafetyNotes = "Legal observers will be there.";
        await ReachedAsync(b, published.Id, 1);
        await a.Delegate.UpdateCallOutAsync(new UpdateCallOutRequest { CallOutId = published.Id, Content = content }, a.Auth);
        await ReachedAsync(b, published.Id, 2);
        await RespondAsync(b, published.Id, Pledge());
        await ReachedAsync(b, published.Id, 3);
        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = published.Id, Cancelled = true, Reason = "they paid" }, a.Auth);

        var items = new List<InboxItem>();
        while (items.Count < 4 && await call.ResponseStream.MoveNext(cts.Token))
        {
            items.Add(call.ResponseStream.Current);
        }

        Assert.Equal(new[] { InboxChange.Published, InboxChange.Updated, InboxChange.Responded, InboxChange.Cancelled }, items.Select(i => i.Change));
        Assert.All(items, i => Assert.Equal(published.Id, i.CallOutId));
        Assert.Equal(new ulong[] { 1, 2, 3, 4 }, items.Select(i => i.Sequence));
        Assert.Equal(new[] { "safety and legal notes" }, items[1].ChangedFields);
        Assert.Equal((b.NodeId, ResponseKind.Pledge, true), (items[2].Network, items[2].Response.Kind, items[2].OwnAction));
        Assert.False(items[0].OwnAction);
        Assert.Contains("cancelled", items[3].Summary);
        Assert.True(items.Zip(items.Skip(1)).All(p => p.First.Cursor < p.Second.Cursor));
    }

    [Fact]
    public async Task ASubscriptionResumesAfterTheLastCursorItSaw()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var first = await PublishAsync(a, Samples.CallOut("first"), b);
        await ReachedAsync(b, first.Id, 1);
        var second = await PublishAsync(a, Samples.CallOut("second"), b);
        await ReachedAsync(b, second.Id, 1);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // Cursor 0 means "from now"; the response headers say where that is.
        using (var all = b.Delegate.SubscribeInbox(new SubscribeInboxRequest { AfterCursor = 0 }, b.Auth, cancellationToken: cts.Token))
        {
            Assert.Equal(b.Store.FeedEnd().ToString(), (await all.ResponseHeadersAsync).GetValue("x-feed-cursor"));
        }
        var firstCursor = b.Store.ReadFeed(0, 1)[0].Position;
        using var call = b.Delegate.SubscribeInbox(new SubscribeInboxRequest { AfterCursor = (ulong)firstCursor }, b.Auth, cancellationToken: cts.Token);

        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal("second", call.ResponseStream.Current.CallOut.Content.Title);
        Assert.Equal(InboxChange.Published, call.ResponseStream.Current.Change);
    }

    [Fact]
    public async Task ASubscriptionWithoutATokenIsUnauthenticated()
    {
        await using var a = await TestNode.StartAsync("alpha");
        using var call = a.Delegate.SubscribeInbox(new SubscribeInboxRequest());

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Status.Is(StatusCode.Unauthenticated, ex);
    }
}
