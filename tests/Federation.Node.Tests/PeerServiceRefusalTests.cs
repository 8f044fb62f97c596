using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Node.Delivery;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>Bad input at the peer service: a clear status, and nothing stored.</summary>
public sealed class PeerServiceRefusalTests : IAsyncLifetime
{
    private TestNode _a = null!;
    private TestNode _b = null!;
    private TestNode _c = null!;
    private string _fightId = "";

    public async Task InitializeAsync()
    {
        _a = await TestNode.StartAsync("alpha");
        _b = await TestNode.StartAsync("beta");
        _c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(_a, _b, _c);
        // alpha runs a fight that beta and gamma have both committed to.
        var draft = await _a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, _a.Auth);
        _fightId = draft.Id;
        await _a.Delegate.OpenFightAsync(new GetObjectRequest { Id = _fightId }, _a.Auth);
        await _a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = _fightId, Networks = { _b.NodeId, _c.NodeId } }, _a.Auth);
        foreach (var n in new[] { _b, _c })
        {
            await Eventually.TrueAsync(() => n.Store.GetObject(_fightId) is not null, $"the invitation to reach {n.Name}");
            var hash = n.Delegate.GetFight(new GetObjectRequest { Id = _fightId }, n.Auth).TermsHash;
            await n.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = _fightId, TermsHash = hash }, n.Auth);
        }
        await Eventually.TrueAsync(() => _c.Store.GetObject(_fightId)!.LastSequence == 5, "both acceptances to reach gamma");
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _c.DisposeAsync();
    }

    private FightState FightAtC => FightState.Parser.ParseFrom(_c.Store.GetObject(_fightId)!.State);

    private async Task<RpcException> DeliverToCExpectingRefusal(TestNode caller, params Envelope[] envelopes)
    {
        var before = (_c.Store.Count("events"), _c.Store.Count("held_events"), FightAtC);
        var request = new DeliverRequest();
        request.Envelopes.AddRange(envelopes);
        var ex = await Assert.ThrowsAsync<RpcException>(() => _c.Peer.DeliverAsync(request, caller.AsPeerOf(_c, Methods.Deliver, request)).ResponseAsync)
            .ConfigureAwait(false);
        // Nothing stored: same events, nothing held, same state.
        Assert.Equal(before, (_c.Store.Count("events"), _c.Store.Count("held_events"), FightAtC));
        return ex;
    }

    [Fact]
    public async Task AParticipantsForgedWonIsRefusedByAThirdNode()
    {
        // beta signs "fight won" for alpha's fight, as itself, and sends it to gamma.
        var forged = Forge.Sign(_b.Identity, _fightId, ObjectKind.Fight, 6, Forge.Won(FightStatus.Open));

        var ex = await DeliverToCExpectingRefusal(_b, forged);

        Status.Is(StatusCode.PermissionDenied, ex);
        Assert.Contains("origin authority", ex.Status.Detail);
        Assert.Equal(FightStatus.Open, FightAtC.Status);
    }

    [Fact]
    public async Task AForgedWonClaimingTheOriginsNameFailsItsSignatureCheck()
    {
        // beta claims to be alpha but can only sign with its own key.
        var forged = Forge.Sign(_b.Identity, _fightId, ObjectKind.Fight, 6, Forge.Won(FightStatus.Open), claimedOrigin: _a.NodeId);

        var ex = await DeliverToCExpectingRefusal(_b, forged);

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Contains("signature does not verify", ex.Status.Detail);
    }

    [Fact]
    public async Task AnEnvelopeWithATamperedSignatureIsRefused()
    {
        var good = Forge.Sign(_a.Identity, _fightId, ObjectKind.Fight, 6, Forge.Won(FightStatus.Open));
        var sig = good.Signature.ToByteArray();
        sig[10] ^= 0xff;
        good.Signature = ByteString.CopyFrom(sig);

        var ex = await DeliverToCExpectingRefusal(_a, good);

        Status.Is(StatusCode.Unauthenticated, ex);
    }

    [Fact]
    public async Task ABatchWithOneBadEnvelopeStoresNoneOfIt()
    {
        // A valid "escalating" from alpha followed by a forgery: the whole batch is refused.
        var valid = Forge.Sign(_a.Identity, _fightId, ObjectKind.Fight, 6,
            new EventBody { FightStatusChanged = new FightStatusChanged { From = FightStatus.Open, To = FightStatus.Escalating } });
        var forged = Forge.Sign(_b.Identity, _fightId, ObjectKind.Fight, 7, Forge.Won(FightStatus.Escalating));

        await DeliverToCExpectingRefusal(_a, valid, forged);

        Assert.Equal(5ul, FightAtC.LastSequence);
    }

    [Fact]
    public async Task AnEventDatedAheadOfThisClockIsRefusedAsAClockProblemThatTheSenderRetries()
    {
        // Validly signed by the origin, but dated ten minutes ahead (its clock ran fast when it signed).
        var payload = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = _fightId,
            ObjectKind = ObjectKind.Fight,
            Sequence = 6,
            OriginNode = _a.NodeId,
            ActorNode = _a.NodeId,
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(10)),
            Body = new EventBody { FightStatusChanged = new FightStatusChanged { From = FightStatus.Open, To = FightStatus.Escalating } },
        };
        var early = Forge.SignBytes(_a.Identity, payload.ToByteString(), payload);

        var ex = await DeliverToCExpectingRefusal(_a, early);

        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains("ahead of this node's clock", ex.Status.Detail);
        // Marked as a clock refusal, so the sender keeps it queued and retries instead of parking it for good.
        Assert.True(Federation.Node.Grpc.WireRefusals.IsClockRefusal(ex));
        var forged = await DeliverToCExpectingRefusal(_b, Forge.Sign(_b.Identity, _fightId, ObjectKind.Fight, 6, Forge.Won(FightStatus.Open)));
        Assert.False(Federation.Node.Grpc.WireRefusals.IsClockRefusal(forged));
    }

    [Fact]
    public async Task AMalformedPayloadIsRefusedAsInvalid()
    {
        var header = new EventPayload { EventId = Guid.NewGuid().ToString(), ObjectId = _fightId, ObjectKind = ObjectKind.Fight, Sequence = 6, OriginNode = _a.NodeId };
        var garbage = Forge.SignBytes(_a.Identity, ByteString.CopyFrom(0xff, 0xff, 0xff, 0x01, 0x02), header);

        var ex = await DeliverToCExpectingRefusal(_a, garbage);

        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains("not a readable event", ex.Status.Detail);
    }

    [Fact]
    public async Task AnEventThatBreaksTheFightRulesIsRefusedEvenFromTheOrigin()
    {
        // Correctly signed by alpha, but "open → paused" is not a move the rules allow.
        var illegal = Forge.Sign(_a.Identity, _fightId, ObjectKind.Fight, 6,
            new EventBody { FightStatusChanged = new FightStatusChanged { From = FightStatus.Open, To = FightStatus.Paused } });

        var ex = await DeliverToCExpectingRefusal(_a, illegal);

        Status.Is(StatusCode.FailedPrecondition, ex);
        Assert.Contains("cannot become paused", ex.Status.Detail);
    }

    [Fact]
    public async Task ANodeThatWasNeverAddedIsRefused()
    {
        await using var stranger = await TestNode.StartAsync("stranger");
        await stranger.AddPeerAsync(_c); // one-sided: gamma never added it
        var envelope = Forge.Sign(stranger.Identity, Federation.Domain.Identifiers.NewObjectId(stranger.NodeId), ObjectKind.CallOut, 1,
            new EventBody { CallOutPublished = new CallOutPublished { Content = Samples.CallOut(), Recipients = { _c.NodeId } } });

        var ex = await DeliverToCExpectingRefusal(stranger, envelope);

        // One answer for every call that does not verify: nothing about whom this node knows.
        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Contains("could not authenticate the call", ex.Status.Detail);
        Assert.Empty(_c.Store.ListObjects(ObjectKind.CallOut));
    }

    [Fact]
    public async Task ACallWithoutPeerCredentialsIsUnauthenticated()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => _c.Peer.DeliverAsync(new DeliverRequest()).ResponseAsync);

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Contains("x-fed-node", ex.Status.Detail);
    }

    [Fact]
    public async Task ASubmissionForAnUnknownObjectIsNotFound()
    {
        var submission = new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            ObjectId = Federation.Domain.Identifiers.NewObjectId(_a.NodeId),
            SubmitterNode = _b.NodeId,
            AcceptInvitation = new AcceptInvitation { TermsHash = "x" },
        };
        var bytes = submission.ToByteString();
        var signed = new SignedSubmission { Payload = bytes, KeyId = _b.NodeId, Signature = ByteString.CopyFrom(_b.Identity.Sign(SignedKind.Submission, bytes.Span)) };
        var eventsBefore = _a.Store.Count("events");

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _a.Peer.SubmitAsync(new SubmitRequest { Submission = signed }, _b.AsPeerOf(_a, Methods.Submit, new SubmitRequest { Submission = signed })).ResponseAsync);

        Status.Is(StatusCode.NotFound, ex);
        Assert.Equal(eventsBefore, _a.Store.Count("events"));
    }

    [Fact]
    public async Task ASubmissionSignedBySomeoneElseIsRefused()
    {
        // beta passes on a submission that names gamma as submitter and is signed by gamma.
        var submission = new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            ObjectId = _fightId,
            SubmitterNode = _c.NodeId,
            DeclineInvitation = new DeclineInvitation { Reason = "forged" },
        };
        var bytes = submission.ToByteString();
        var signed = new SignedSubmission { Payload = bytes, KeyId = _c.NodeId, Signature = ByteString.CopyFrom(_c.Identity.Sign(SignedKind.Submission, bytes.Span)) };
        var eventsBefore = _a.Store.Count("events");

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _a.Peer.SubmitAsync(new SubmitRequest { Submission = signed }, _b.AsPeerOf(_a, Methods.Submit, new SubmitRequest { Submission = signed })).ResponseAsync);

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Equal(eventsBefore, _a.Store.Count("events"));
    }

    [Fact]
    public async Task FetchingEventsOfAnUnknownObjectIsNotFound()
    {
        var request = new FetchEventsRequest { ObjectId = Federation.Domain.Identifiers.NewObjectId(_a.NodeId) };
        var ex = await Assert.ThrowsAsync<RpcException>(() => _a.Peer.FetchEventsAsync(request, _b.AsPeerOf(_a, Methods.FetchEvents, request)).ResponseAsync);

        Status.Is(StatusCode.NotFound, ex);
    }

    /// <summary>Issue 15 #16: an object that exists but is not shared with the caller gets the same answer as one that does not exist.</summary>
    [Fact]
    public async Task FetchingAnObjectNotSharedWithTheCallerLooksLikeFetchingAnUnknownOne()
    {
        var draft = await _a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bakery hours", Target = new Target { Name = "Bakery" }, Terms = Samples.Terms() }, _a.Auth);
        await _a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, _a.Auth);
        await _a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = draft.Id, Networks = { _c.NodeId } }, _a.Auth);
        var unknown = Federation.Domain.Identifiers.NewObjectId(_a.NodeId);

        var notShared = await Assert.ThrowsAsync<RpcException>(() => _a.Peer.FetchEventsAsync(
            new FetchEventsRequest { ObjectId = draft.Id }, _b.AsPeerOf(_a, Methods.FetchEvents, new FetchEventsRequest { ObjectId = draft.Id })).ResponseAsync);
        var missing = await Assert.ThrowsAsync<RpcException>(() => _a.Peer.FetchEventsAsync(
            new FetchEventsRequest { ObjectId = unknown }, _b.AsPeerOf(_a, Methods.FetchEvents, new FetchEventsRequest { ObjectId = unknown })).ResponseAsync);

        Assert.Equal(missing.StatusCode, notShared.StatusCode);
        Assert.Equal(missing.Status.Detail.Replace(unknown, "ID"), notShared.Status.Detail.Replace(draft.Id, "ID"));
    }

    [Fact]
    public async Task AParticipantCannotChangeTheFightsStatusThroughItsDelegateService()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => _b.Delegate.ChangeFightStatusAsync(
            new ChangeFightStatusRequest { FightId = _fightId, Status = FightStatus.Won }, _b.Auth).ResponseAsync);

        Status.Is(StatusCode.PermissionDenied, ex);
        Assert.Contains("only the initiating network", ex.Status.Detail);
        Assert.Equal(FightStatus.Open, FightAtC.Status);
    }

    [Fact]
    public async Task AcceptingStaleTermsIsRefusedAndNamesTheCurrentVersion()
    {
        await using var d = await TestNode.StartAsync("delta");
        await TestNode.PeerAsync(_a, d);
        await _a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = _fightId, Networks = { d.NodeId } }, _a.Auth);
        await Eventually.TrueAsync(() => d.Store.GetObject(_fightId) is not null, "the invitation to reach delta");
        var current = d.Delegate.GetFight(new GetObjectRequest { Id = _fightId }, d.Auth).TermsHash;

        var ex = await Assert.ThrowsAsync<RpcException>(() => d.Delegate.AcceptInvitationAsync(
            new AcceptInvitationRequest { FightId = _fightId, TermsHash = new string('0', 64) }, d.Auth).ResponseAsync);

        Status.Is(StatusCode.FailedPrecondition, ex);
        Assert.Contains(current, ex.Status.Detail);
        Assert.Equal(0, d.Store.Count("outbox"));
    }
}
