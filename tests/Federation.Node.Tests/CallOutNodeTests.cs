using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Delivery;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>Call-out transitions and refusals on real nodes: update, close, cancel, expiry, audience.</summary>
public sealed class CallOutNodeTests
{
    [Fact]
    public async Task AnUpdateReachesTheRecipientWithTheListOfWhatChanged()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var published = await PublishAsync(a, to: b);
        await ReachedAsync(b, published.Id, 1);
        var content = published.Content.Clone();
        content.TalkingPoints = "Ask customers to phone head office.";
        content.Places.Add(new Place { City = "York", Address = "5 Stonegate" });

        var updated = await a.Delegate.UpdateCallOutAsync(new UpdateCallOutRequest { CallOutId = published.Id, Content = content }, a.Auth);

        Assert.Equal(new[] { "places", "talking points" }, Assert.Single(updated.Revisions).ChangedFields);
        var atB = await ReachedAsync(b, published.Id, 2);
        Assert.Equal(content, atB.Content);
        Assert.Equal(EventLog.AsOthersHoldIt(updated), atB);
    }

    [Fact]
    public async Task AnUpdateAtARecipientsNodeIsRefusedAndChangesNothing()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var published = await PublishAsync(a, to: b);
        var before = await ReachedAsync(b, published.Id, 1);
        var content = published.Content.Clone();
        content.DemandSummary = "Something else";

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            b.Delegate.UpdateCallOutAsync(new UpdateCallOutRequest { CallOutId = published.Id, Content = content }, b.Auth).ResponseAsync);

        Status.Is(StatusCode.PermissionDenied, ex);
        Assert.Equal(Rules.OriginAuthority, ex.Trailers.GetValue("x-fed-rule"));
        Assert.Contains("only the issuing network can update", ex.Status.Detail);
        Assert.Equal(before, Get(b, published.Id));
        Assert.Equal(1, a.Store.Count("events"));
    }

    [Fact]
    public async Task AnUpdateThatChangesNothingIsRefused()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var published = await PublishAsync(a, to: b);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            a.Delegate.UpdateCallOutAsync(new UpdateCallOutRequest { CallOutId = published.Id, Content = published.Content }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains("Nothing changed", ex.Status.Detail);
    }

    [Fact]
    public async Task AClosedCallOutTakesOnlyReportBacks()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var published = await PublishAsync(a, to: b);
        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = published.Id, Reason = "window over" }, a.Auth);
        await ReachedAsync(b, published.Id, 2);

        foreach (var response in new[] { Pledge(), Decline() })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => RespondAsync(b, published.Id, response));
            Status.Is(StatusCode.FailedPrecondition, ex);
            Assert.Contains("closed", ex.Status.Detail);
        }
        Assert.Equal(0, b.Store.Count("outbox"));

        await RespondAsync(b, published.Id, ReportBack());

        var atA = await ReachedAsync(a, published.Id, 3);
        Assert.Equal(ReportBack(), Assert.Single(atA.Responses).Latest);
    }

    [Fact]
    public async Task ACancelledCallOutTakesNoResponseAtAll()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var published = await PublishAsync(a, to: b);
        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = published.Id, Cancelled = true, Reason = "target paid" }, a.Auth);
        var atB = await ReachedAsync(b, published.Id, 2);
        Assert.True(atB.Cancelled);

        foreach (var response in new[] { Pledge(), Decline(), Unable(), ReportBack() })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => RespondAsync(b, published.Id, response));
            Status.Is(StatusCode.FailedPrecondition, ex);
            Assert.Contains("cancelled", ex.Status.Detail);
        }
        Assert.Equal(0, b.Store.Count("outbox"));
    }

    [Fact]
    public async Task TheIssuerRefusesAResponseFromANetworkTheCallOutWasNotSentTo()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var published = await PublishAsync(a, to: b);

        // gamma holds no copy, so its own node cannot even queue a response…
        var atC = await Assert.ThrowsAsync<RpcException>(() => RespondAsync(c, published.Id, Pledge()));
        Status.Is(StatusCode.NotFound, atC);

        // …and a signed submission sent straight to the issuer is refused there.
        var payload = new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            ObjectId = published.Id,
            SubmitterNode = c.NodeId,
            SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            CallOutResponse = Pledge(),
        }.ToByteString();
        var signed = new SignedSubmission { Payload = payload, Signature = ByteString.CopyFrom(c.Identity.Sign(SignedKind.Submission, payload.Span)), KeyId = c.NodeId };
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            a.Peer.SubmitAsync(new SubmitRequest { Submission = signed }, c.AsPeerOf(a, Methods.Submit, new SubmitRequest { Submission = signed })).ResponseAsync);

        Status.Is(StatusCode.PermissionDenied, ex);
        Assert.Contains("not a recipient", ex.Status.Detail);
        Assert.Empty(Get(a, published.Id).Responses);
        Assert.Equal(1, a.Store.Count("events"));
    }

    [Fact]
    public async Task UnableBeforeAnyPledgeIsRefusedAtTheRecipient()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var published = await PublishAsync(a, to: b);
        await ReachedAsync(b, published.Id, 1);

        var ex = await Assert.ThrowsAsync<RpcException>(() => RespondAsync(b, published.Id, Unable("van broke down")));

        Status.Is(StatusCode.FailedPrecondition, ex);
        Assert.Contains("has not pledged", ex.Status.Detail);
    }

    [Fact]
    public async Task TheIssuersSweepClosesACallOutWhenItExpiresAndRecipientsSeeIt()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var content = Samples.CallOut();
        content.ExpiresAt = In(TimeSpan.FromSeconds(2));
        var published = await PublishAsync(a, content, b);
        await ReachedAsync(b, published.Id, 1);

        var atB = await ReachedAsync(b, published.Id, 2);

        Assert.True(atB.Closed);
        Assert.True(atB.Expired);
        Assert.False(atB.Cancelled);
        var close = EventPayload.Parser.ParseFrom(a.Store.LoadEvents(published.Id, 1, 1)[0].Payload);
        Assert.True(close.Body.CallOutClosed.Expired);
        Assert.Equal(a.NodeId, close.ActorNode);
        var ex = await Assert.ThrowsAsync<RpcException>(() => RespondAsync(b, published.Id, Pledge()));
        Status.Is(StatusCode.FailedPrecondition, ex);
    }

    [Fact]
    public async Task PublishingACallOutThatHasAlreadyExpiredIsRefused()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var content = Samples.CallOut();
        content.ExpiresAt = In(TimeSpan.FromMinutes(-5));

        var ex = await Assert.ThrowsAsync<RpcException>(() => PublishAsync(a, content, b));

        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Equal(Rules.Expiry, ex.Trailers.GetValue("x-fed-rule"));
        Assert.Equal(0, a.Store.Count("events"));
    }

    [Fact]
    public async Task ACallOutForARegionGoesOnlyToPeersInThatRegion()
    {
        await using var a = await TestNode.StartAsync("alpha", "--region", "Bradford");
        await using var b = await TestNode.StartAsync("beta", "--region", "Leeds");
        await using var c = await TestNode.StartAsync("gamma", "--region", "York");
        await TestNode.PeerAsync(a, b, c);
        Assert.Equal("Bradford", (await a.Delegate.GetNodeInfoAsync(new GetNodeInfoRequest(), a.Auth)).Region);
        var peers = (await a.Delegate.ListPeersAsync(new ListPeersRequest(), a.Auth)).Peers;
        Assert.Equal("Leeds", peers.Single(p => p.NodeId == b.NodeId).Region);
        Assert.Equal("York", peers.Single(p => p.NodeId == c.NodeId).Region);

        var published = await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest
        {
            Content = Samples.CallOut(),
            Audience = new CallOutAudience { Kind = AudienceKind.Regions, Regions = { "leeds" } },
        }, a.Auth);

        Assert.Equal(new[] { b.NodeId }, published.Recipients);
        Assert.Equal(AudienceKind.Regions, published.Audience.Kind);
        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = published.Id }, a.Auth);
        await ReachedAsync(b, published.Id, 2);
        // gamma, in York, was never sent anything: alpha's cursor for it has not moved and nothing waits.
        var toGamma = a.Store.DeliveryStates().Single(d => d.PeerId == c.NodeId);
        Assert.Equal((0L, 0L), (toGamma.DeliveredId, toGamma.Pending));
        Assert.Null(c.Store.GetObject(published.Id));
    }

    [Fact]
    public async Task ACallOutForARegionWhereNoPeerIsIsRefused()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", "--region", "Leeds");
        await TestNode.PeerAsync(a, b);

        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.PublishCallOutAsync(new PublishCallOutRequest
        {
            Content = Samples.CallOut(),
            Audience = new CallOutAudience { Kind = AudienceKind.Regions, Regions = { "Hull" } },
        }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.FailedPrecondition, ex);
        Assert.Contains("Peers' regions: Leeds", ex.Status.Detail);
        Assert.Equal(0, a.Store.Count("events"));
    }

    [Fact]
    public async Task ACallOutForChosenPeersNamedByFingerprintGoesOnlyToThem()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);

        var published = await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest
        {
            Content = Samples.CallOut(),
            Audience = new CallOutAudience { Kind = AudienceKind.ChosenPeers, Networks = { c.Identity.Fingerprint } },
        }, a.Auth);

        Assert.Equal(new[] { c.NodeId }, published.Recipients);
    }
}
