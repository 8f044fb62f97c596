using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Node.Delivery;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>At-least-once delivery, exactly-once application, and nothing lost across restarts.</summary>
public sealed class DeliveryTests
{
    private static async Task<CallOutState> PublishAsync(TestNode from, params TestNode[] to)
    {
        var request = new PublishCallOutRequest { Content = Samples.CallOut() };
        request.Recipients.AddRange(to.Select(n => n.NodeId));
        return await from.Delegate.PublishCallOutAsync(request, from.Auth);
    }

    /// <summary>Points <paramref name="at"/>'s record of <paramref name="peer"/> at a closed port, or back.</summary>
    private static Task CutAsync(TestNode at, TestNode peer, bool cut = true) => at.Store.WriteAsync(tx =>
    {
        var record = at.Store.GetPeer(peer.NodeId)!;
        tx.UpsertPeer(record with { Address = cut ? "http://127.0.0.1:9" : peer.Address });
        return true;
    });

    [Fact]
    public async Task TheSameBatchDeliveredTwiceIsAppliedOnce()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var callOut = await PublishAsync(a, b);
        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = callOut.Id, Reason = "done" }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id)?.LastSequence == 2, "both events to reach beta");
        var before = (b.Store.Count("events"), Convert.ToHexString(b.Store.GetObject(callOut.Id)!.State));

        var batch = new DeliverRequest();
        batch.Envelopes.AddRange(a.Store.LoadEvents(callOut.Id, 0, 10).Select(e => Envelopes.Build(e, a.Get<Federation.Core.Identity.NodeIdentity>().Algorithm)));
        var first = await b.Peer.DeliverAsync(batch, a.AsPeerOf(b, Methods.Deliver, batch));
        var second = await b.Peer.DeliverAsync(batch, a.AsPeerOf(b, Methods.Deliver, batch));

        Assert.Equal((0u, 2u), (first.Applied, first.Duplicates));
        Assert.Equal((0u, 2u), (second.Applied, second.Duplicates));
        Assert.Equal(before, (b.Store.Count("events"), Convert.ToHexString(b.Store.GetObject(callOut.Id)!.State)));
    }

    [Fact]
    public async Task AnEventAheadOfAGapIsHeldAndTheGapIsFilledFromTheOrigin()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, c);
        await CutAsync(a, c); // alpha's own pushes to gamma now fail
        var callOut = await PublishAsync(a, c);
        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = callOut.Id, Cancelled = true, Reason = "target paid" }, a.Auth);

        // Only event 2 arrives; event 1 was "lost".
        var onlySecond = new DeliverRequest { Envelopes = { Envelopes.Build(a.Store.LoadEvents(callOut.Id, 1, 1)[0], a.Get<Federation.Core.Identity.NodeIdentity>().Algorithm) } };
        var response = await c.Peer.DeliverAsync(onlySecond, a.AsPeerOf(c, Methods.Deliver, onlySecond));
        Assert.Equal(1u, response.Held);

        // gamma pulls event 1 from alpha by itself, then applies the held event 2.
        await Eventually.TrueAsync(() => c.Store.GetObject(callOut.Id)?.LastSequence == 2, "gamma to backfill from alpha");
        var atC = CallOutState.Parser.ParseFrom(c.Store.GetObject(callOut.Id)!.State);
        Assert.True(atC.Cancelled);
        Assert.Equal(0, c.Store.Count("held_events"));
        Assert.Equal(2, c.Store.Count("events"));
    }

    /// <summary>Peers the two, publishes from <paramref name="origin"/> while <paramref name="peer"/> is down, then stops the origin too.</summary>
    private static async Task<CallOutState> QueueForAPeerThatIsDownThenStopAsync(TestNode origin, TestNode peer)
    {
        await TestNode.PeerAsync(origin, peer);
        await peer.StopAsync();
        var callOut = await PublishAsync(origin, peer);
        await Eventually.TrueAsync(() => origin.Store.DeliveryStates().Single().LastError is not null, $"{origin.Name} to notice {peer.Name} is down");
        await origin.StopAsync();
        return callOut;
    }

    [Fact]
    public async Task NothingIsLostWhenTheOriginStopsBeforeDeliveringAndStartsAgain()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        var callOut = await QueueForAPeerThatIsDownThenStopAsync(a, b);

        await b.StartAgainAsync();
        await a.StartAgainAsync();

        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id) is not null, "the call-out to reach beta after both restarts");
        await Eventually.TrueAsync(() => a.Store.Count("outbox") == 0, "alpha's outbox to drain");
        Assert.Single(b.Store.LoadEvents(callOut.Id, 0, 10));
        Assert.Null(a.Store.DeliveryStates().Single().LastError);
    }

    [Fact]
    public async Task AnOriginWhoseBusIsSlowToStartDeliversItsBacklogAtOnce()
    {
        await using var a = await TestNode.StartAsync("alpha");
        // No periodic passes, and its pass on start finds alpha down: only alpha's push can bring it.
        await using var b = await TestNode.StartAsync("beta", o => o.CatchUpInterval = TimeSpan.Zero);
        var callOut = await QueueForAPeerThatIsDownThenStopAsync(a, b);
        await b.StartAgainAsync();

        // The doorbell alpha rings on start must not meet a bus that is not ready yet: a
        // message published then is dropped, and the doorbell would wait out its one-minute timeout.
        a.Customize = builder => SlowBusStart.Add(builder, TimeSpan.FromSeconds(1));
        await a.StartAgainAsync();

        await Eventually.TrueAsync(() => a.Store.Count("outbox") == 0, "alpha's backlog to be pushed to beta soon after alpha starts");
        Assert.Single(b.Store.LoadEvents(callOut.Id, 0, 10));
    }

    [Fact]
    public async Task ASubmissionReceivedTwiceIsRecordedOnce()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var callOut = await PublishAsync(a, b);
        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id) is not null, "the call-out to reach beta");
        var payload = new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            ObjectId = callOut.Id,
            SubmitterNode = b.NodeId,
            CallOutResponse = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "Saturday" },
        };
        var bytes = payload.ToByteString();
        var signed = new SignedSubmission { Payload = bytes, KeyId = b.NodeId, Signature = ByteString.CopyFrom(b.Identity.Sign(SignedKind.Submission, bytes.Span)) };

        var first = await a.Peer.SubmitAsync(new SubmitRequest { Submission = signed }, b.AsPeerOf(a, Methods.Submit, new SubmitRequest { Submission = signed }));
        var again = await a.Peer.SubmitAsync(new SubmitRequest { Submission = signed }, b.AsPeerOf(a, Methods.Submit, new SubmitRequest { Submission = signed }));

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Sequence, again.Sequence);
        var row = Assert.Single(a.Delegate.GetCallOut(new GetObjectRequest { Id = callOut.Id }, a.Auth).Responses);
        Assert.Equal(1u, row.Responses);
        Assert.Equal(2, a.Store.LoadEvents(callOut.Id, 0, 10).Count);
    }

    [Fact]
    public async Task ASubmissionTheOriginRefusesIsParkedAsADeadLetterNotRetried()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var callOut = await PublishAsync(a, b);
        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id) is not null, "the call-out to reach beta");

        await CutAsync(b, a); // beta's pledge waits in its outbox…
        await b.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = callOut.Id,
            Response = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "Saturday" },
        }, b.Auth);
        // …while alpha cancels the call-out.
        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = callOut.Id, Cancelled = true }, a.Auth);
        await CutAsync(b, a, cut: false);

        await Eventually.TrueAsync(() => b.Store.ListDeadLetters().Count == 1, "the refused pledge to be parked");
        var parked = b.Store.ListDeadLetters().Single();
        Assert.Equal(nameof(StatusCode.FailedPrecondition), parked.Status);
        Assert.Contains("cancelled", parked.Error);
        Assert.Equal(OutboxKind.Submission, parked.Kind);
        Assert.Equal(0, b.Store.Count("outbox"));
        Assert.Empty(a.Delegate.GetCallOut(new GetObjectRequest { Id = callOut.Id }, a.Auth).Responses);
    }

    [Fact]
    public async Task ADeadPeerDoesNotHoldUpDeliveryToALiveOne()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        await c.StopAsync();

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await PublishAsync(a, b, c)).Id);
        }

        await Eventually.TrueAsync(() => ids.All(id => b.Store.GetObject(id) is not null), "every call-out to reach beta while gamma is down");
        var gamma = a.Store.DeliveryStates().Single(d => d.PeerId == c.NodeId);
        Assert.Equal(5, gamma.Pending);
    }
}
