using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Node.Delivery;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// PeerService.SubmitStream: many submissions on one authenticated call, each checked and
/// recorded as Submit would, answered one by one in the order sent.
/// </summary>
public sealed class SubmitStreamTests : IAsyncLifetime
{
    private TestNode _a = null!;
    private TestNode _b = null!;
    private TestNode _c = null!;
    private string _callOut = "";

    public async Task InitializeAsync()
    {
        _a = await TestNode.StartAsync("alpha");
        _b = await TestNode.StartAsync("beta");
        _c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(_a, _b, _c);
        _callOut = (await _a.PublishAsync(_b, _c)).Id;
        await Eventually.TrueAsync(() => _b.Store.GetObject(_callOut) is not null, "the call-out to reach beta");
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _c.DisposeAsync();
    }

    /// <summary>A pledge to <paramref name="objectId"/> that <paramref name="submitter"/> signed with <paramref name="signer"/>'s key.</summary>
    private static SubmitRequest Pledge(TestNode submitter, string objectId, string place, TestNode? signer = null)
    {
        var payload = new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            ObjectId = objectId,
            SubmitterNode = submitter.NodeId,
            SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            CallOutResponse = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05", Place = place },
        };
        var bytes = payload.ToByteString();
        var key = (signer ?? submitter).Identity;
        return new SubmitRequest
        {
            Submission = new SignedSubmission { Payload = bytes, KeyId = submitter.NodeId, Signature = ByteString.CopyFrom(key.Sign(SignedKind.Submission, bytes.Span)) },
        };
    }

    /// <summary>Sends <paramref name="requests"/> on one SubmitStream call and returns every answer.</summary>
    private async Task<List<SubmitStreamResponse>> StreamAsync(CallOptions options, IEnumerable<SubmitRequest> requests)
    {
        using var call = _a.Peer.SubmitStream(options);
        try
        {
            foreach (var request in requests)
            {
                await call.RequestStream.WriteAsync(request);
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The node ended the call before it had read everything (a refused call): a write
            // then fails as cancelled, and the node's own status is read from the response below.
        }
        var answers = new List<SubmitStreamResponse>();
        await foreach (var answer in call.ResponseStream.ReadAllAsync())
        {
            answers.Add(answer);
        }
        return answers;
    }

    private CallOptions AsPeer(TestNode caller) => caller.AsPeerOf(_a, Methods.SubmitStream);

    private CallOutState CallOutAtOrigin => CallOutState.Parser.ParseFrom(_a.Store.GetObject(_callOut)!.State);

    [Fact]
    public async Task SubmissionsOnOneStreamAreSequencedInTheOrderSent()
    {
        var requests = Enumerable.Range(0, 60).Select(i => Pledge(_b, _callOut, $"place {i}")).ToList();

        var answers = await StreamAsync(AsPeer(_b), requests);

        Assert.Equal(60, answers.Count);
        var first = answers[0].Accepted.Sequence;
        for (var i = 0; i < answers.Count; i++)
        {
            Assert.Equal((ulong)i, answers[i].Index);
            Assert.Equal(SubmitStreamResponse.ResultOneofCase.Accepted, answers[i].ResultCase);
            Assert.False(answers[i].Accepted.Duplicate);
            Assert.Equal(first + (ulong)i, answers[i].Accepted.Sequence);
        }
        var beta = CallOutAtOrigin.Responses.Single(r => r.Network == _b.NodeId);
        Assert.Equal("place 59", beta.Latest.Place);
        Assert.Equal(60u, beta.Responses);
    }

    [Fact]
    public async Task ARefusedSubmissionIsAnsweredOnItsOwnAndTheStreamGoesOn()
    {
        var eventsBefore = _a.Store.Count("events");
        var unknown = Federation.Domain.Identifiers.NewObjectId(_a.NodeId);
        var unreadable = Pledge(_b, _callOut, "x");
        var garbage = ByteString.CopyFrom(0xff, 0xff, 0xff, 0x01);
        unreadable.Submission = new SignedSubmission { Payload = garbage, KeyId = _b.NodeId, Signature = ByteString.CopyFrom(_b.Identity.Sign(SignedKind.Submission, garbage.Span)) };

        var answers = await StreamAsync(AsPeer(_b),
        [
            Pledge(_b, _callOut, "first"),
            Pledge(_b, _callOut, "signed by gamma", signer: _c),
            Pledge(_b, unknown, "nowhere"),
            unreadable,
            new SubmitRequest(),
            Pledge(_b, _callOut, "last"),
        ]);

        Assert.Equal(6, answers.Count);
        Assert.Equal(SubmitStreamResponse.ResultOneofCase.Accepted, answers[0].ResultCase);
        Assert.Equal((int)StatusCode.Unauthenticated, answers[1].Refused.StatusCode);
        Assert.Equal((int)StatusCode.NotFound, answers[2].Refused.StatusCode);
        Assert.Contains("is known here", answers[2].Refused.Detail);
        Assert.Equal((int)StatusCode.InvalidArgument, answers[3].Refused.StatusCode);
        Assert.Equal((int)StatusCode.InvalidArgument, answers[4].Refused.StatusCode);
        Assert.Equal(SubmitStreamResponse.ResultOneofCase.Accepted, answers[5].ResultCase);
        Assert.Equal(answers[0].Accepted.Sequence + 1, answers[5].Accepted.Sequence);
        // Only the two good ones were recorded.
        Assert.Equal(eventsBefore + 2, _a.Store.Count("events"));
        Assert.Equal("last", CallOutAtOrigin.Responses.Single(r => r.Network == _b.NodeId).Latest.Place);
    }

    [Fact]
    public async Task ASubmissionSentAgainIsRecordedOnce()
    {
        var eventsBefore = _a.Store.Count("events");
        var pledge = Pledge(_b, _callOut, "once");

        var firstStream = await StreamAsync(AsPeer(_b), [pledge, pledge]);
        var secondStream = await StreamAsync(AsPeer(_b), [pledge]);
        var unary = await _a.Peer.SubmitAsync(pledge, _b.AsPeerOf(_a, Methods.Submit, pledge));

        var sequence = firstStream[0].Accepted.Sequence;
        Assert.False(firstStream[0].Accepted.Duplicate);
        Assert.True(firstStream[1].Accepted.Duplicate);
        Assert.True(secondStream[0].Accepted.Duplicate);
        Assert.True(unary.Duplicate);
        Assert.All(new[] { firstStream[1].Accepted.Sequence, secondStream[0].Accepted.Sequence, unary.Sequence }, s => Assert.Equal(sequence, s));
        Assert.Equal(eventsBefore + 1, _a.Store.Count("events"));
    }

    [Fact]
    public async Task AStreamWithoutPeerCredentialsIsUnauthenticatedAndRecordsNothing()
    {
        var eventsBefore = _a.Store.Count("events");

        var ex = await Assert.ThrowsAsync<RpcException>(() => StreamAsync(new CallOptions(), [Pledge(_b, _callOut, "anonymous")]));

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Equal(eventsBefore, _a.Store.Count("events"));
    }

    [Fact]
    public async Task AStreamSignedForAnotherMethodIsRefused()
    {
        var eventsBefore = _a.Store.Count("events");

        // Headers signed for Submit cannot be replayed on SubmitStream.
        var ex = await Assert.ThrowsAsync<RpcException>(() => StreamAsync(_b.AsPeerOf(_a, Methods.Submit), [Pledge(_b, _callOut, "replayed")]));

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Equal(eventsBefore, _a.Store.Count("events"));
    }

    [Fact]
    public async Task AStreamFromANodeThatIsNotAPeerIsRefused()
    {
        await using var stranger = await TestNode.StartAsync("stranger");
        var eventsBefore = _a.Store.Count("events");

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            StreamAsync(stranger.AsPeerOf(_a, Methods.SubmitStream), [Pledge(stranger, _callOut, "stranger")]));

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Equal(eventsBefore, _a.Store.Count("events"));
    }

    [Fact]
    public async Task SubmissionsQueuedWhileTheOriginWasUnreachableGoOutTogetherInOrder()
    {
        // beta cannot reach alpha while its delegate answers five times: the five queue up in
        // beta's outbox and go out as one run when alpha is reachable again.
        await _b.CutAsync(_a);
        for (var i = 0; i < 5; i++)
        {
            await _b.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
            {
                CallOutId = _callOut,
                Response = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05", Place = $"queued {i}" },
            }, _b.Auth);
        }
        Assert.Equal(5, _b.Store.PendingSubmissions(_callOut));

        await _b.CutAsync(_a, cut: false);

        await Eventually.TrueAsync(() => _b.Store.PendingSubmissions(_callOut) == 0, "beta's queued submissions to be acknowledged");
        var beta = CallOutAtOrigin.Responses.Single(r => r.Network == _b.NodeId);
        Assert.Equal(5u, beta.Responses);
        Assert.Equal("queued 4", beta.Latest.Place);
        Assert.Empty(_b.Store.ListDeadLetters(_a.NodeId));
    }
}
