using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace Federation.Domain.Tests;

public class CallOutTests
{
    private readonly Log<CallOutState> _log = new(ObjectKind.CallOut);
    private readonly string _a = Make.NodeId();
    private readonly string _b = Make.NodeId();

    private CallOutState Published()
    {
        _log.Append(CallOuts.Publish(Make.Content(), [_a, _b]));
        return _log.State!;
    }

    private static EventBody Respond(string network, CallOutResponse response) =>
        new() { CallOutResponded = new CallOutResponded { Network = network, Response = response } };

    private static CallOutResponse Pledge(string date = "Friday 7 March") => new() { Kind = ResponseKind.Pledge, PlannedDate = date, Place = "Leeds" };

    private static CallOutResponse Decline(string reason = "") => new() { Kind = ResponseKind.Decline, Reason = reason };

    private static CallOutResponse Unable(string reason = "") => new() { Kind = ResponseKind.Unable, Reason = reason };

    private static CallOutResponse ReportBack(string report = "Twenty of us picketed for two hours.") =>
        new() { Kind = ResponseKind.ReportBack, Report = report, Turnout = 20, TargetResponse = "Manager came out", ShareWithRecipients = true };

    private void RefusePublished(CallOutContent content, string[]? recipients = null) =>
        _log.Refuse(CallOuts.Publish(content, recipients ?? [_a]), RefusalKind.InvalidArgument, "valid input");

    // ---- Publishing -----------------------------------------------------------

    [Fact]
    public void PublishedCallOutRecordsItsContentAndRecipients()
    {
        var state = Published();

        Assert.Equal(_log.ObjectId, state.Id);
        Assert.Equal(_log.Origin, state.OriginNode);
        Assert.Equal(Make.Content(), state.Content);
        Assert.Equal(new[] { _a, _b }, state.Recipients);
        Assert.False(state.Closed);
        Assert.Empty(state.Responses);
        Assert.Equal(1UL, state.LastSequence);
        Assert.NotNull(state.PublishedAt);
    }

    [Fact]
    public void PublishListsEachRecipientOnce()
    {
        var body = CallOuts.Publish(Make.Content(), [_a, _b, _a]);

        Assert.Equal(new[] { _a, _b }, body.CallOutPublished.Recipients);
    }

    [Fact]
    public void CallOutWithoutRecipientsIsRefused()
    {
        RefusePublished(Make.Content(), []);
    }

    [Fact]
    public void CallOutListingARecipientTwiceIsRefusedAtReplicas()
    {
        // Publish() dedupes, so build the event a careless or hostile origin might send.
        var body = new EventBody { CallOutPublished = new CallOutPublished { Content = Make.Content(), Recipients = { _a, _b, _a } } };

        _log.Refuse(body, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void CallOutSentToItsOwnOriginIsRefused()
    {
        RefusePublished(Make.Content(), [_a, _log.Origin]);
    }

    [Fact]
    public void CallOutSentToAMalformedNodeIdIsRefused()
    {
        RefusePublished(Make.Content(), [_a, "Leeds Solidarity Network"]);
    }

    [Fact]
    public void UnspecifiedActionTypeIsRefused()
    {
        var content = Make.Content();
        content.ActionTypes.Add(ActionType.Unspecified);

        RefusePublished(content);
    }

    [Fact]
    public void UndefinedActionTypeIsRefused()
    {
        var content = Make.Content();
        content.ActionTypes.Add((ActionType)99);

        RefusePublished(content);
    }

    [Fact]
    public void WindowEndingBeforeItStartsIsRefused()
    {
        var content = Make.Content();
        content.WindowEnd = Timestamp.FromDateTimeOffset(content.WindowStart.ToDateTimeOffset().AddMinutes(-1));

        RefusePublished(content);
    }

    [Fact]
    public void WindowWithOnlyAStartIsAccepted()
    {
        var content = Make.Content();
        content.WindowEnd = null;

        Assert.Null(Record.Exception(() => CallOuts.CheckContent(content)));
    }

    [Fact]
    public void CallOutWithoutTitleIsRefused()
    {
        var content = Make.Content();
        content.Title = "";

        RefusePublished(content);
    }

    [Fact]
    public void CallOutWithoutTargetIsRefused()
    {
        var content = Make.Content();
        content.Target = null;

        RefusePublished(content);
    }

    [Fact]
    public void CallOutWithoutDemandSummaryIsRefused()
    {
        var content = Make.Content();
        content.DemandSummary = " ";

        RefusePublished(content);
    }

    [Fact]
    public void CallOutTitleWithAControlCharacterIsRefused()
    {
        var content = Make.Content();
        content.Title = "Picket\u001b[8m";

        RefusePublished(content);
    }

    [Fact]
    public void OverLongTalkingPointsAreRefused()
    {
        var content = Make.Content();
        content.TalkingPoints = new string('x', Text.LongMax + 1);

        RefusePublished(content);
    }

    [Fact]
    public void PlaceWithoutCityIsRefused()
    {
        var content = Make.Content();
        content.Places.Add(new Place { Address = "Somewhere" });

        RefusePublished(content);
    }

    [Fact]
    public void TooManyPlacesAreRefused()
    {
        var content = Make.Content();
        content.Places.Clear();
        content.Places.Add(Enumerable.Range(0, CallOuts.MaxPlaces).Select(i => new Place { City = $"City {i}" }));
        Assert.Null(Record.Exception(() => CallOuts.CheckContent(content)));

        content.Places.Add(new Place { City = "One too many" });

        Make.Invalid(() => CallOuts.CheckContent(content));
    }

    [Fact]
    public void CallOutLinkedToAFightByAWellFormedIdIsAccepted()
    {
        var content = Make.Content();
        content.FightId = Identifiers.NewObjectId(_log.Origin);

        _log.Append(CallOuts.Publish(content, [_a]));

        Assert.Equal(content.FightId, _log.State!.Content.FightId);
    }

    [Fact]
    public void CallOutLinkedToAMalformedFightIdIsRefused()
    {
        var content = Make.Content();
        content.FightId = "fight-42";

        RefusePublished(content);
    }

    [Fact]
    public void CallOutWithoutContentIsRefused()
    {
        Make.Invalid(() => CallOuts.CheckContent(null));
        RefusePublished(null!);
    }

    [Fact]
    public void CallOutPublishedOnBehalfOfAnotherNetworkIsRefused()
    {
        _log.Refuse(CallOuts.Publish(Make.Content(), [_a]), RefusalKind.PermissionDenied, Rules.OriginAuthority, actor: _a);
    }

    [Fact]
    public void CallOutCannotBePublishedTwice()
    {
        Published();

        _log.Refuse(CallOuts.Publish(Make.Content(), [_a]), RefusalKind.FailedPrecondition, Rules.Sequence);
    }

    [Fact]
    public void ResponseBeforeThePublicationIsRefused()
    {
        _log.Refuse(Respond(_a, Pledge()), RefusalKind.FailedPrecondition, Rules.Sequence, actor: _a);
    }

    // ---- Responses ------------------------------------------------------------

    [Fact]
    public void PledgeByARecipientIsRecorded()
    {
        Published();

        var state = _log.Append(Respond(_a, Pledge()), actor: _a);

        var row = Assert.Single(state.Responses);
        Assert.Equal(_a, row.Network);
        Assert.Equal(Pledge(), row.Latest);
        Assert.Equal(1U, row.Responses);
        Assert.NotNull(row.At);
        Assert.Equal(2UL, state.LastSequence);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void PledgeWithoutAPlannedDateIsRefused(string date)
    {
        Published();

        _log.Refuse(Respond(_a, Pledge(date)), RefusalKind.InvalidArgument, "valid input", actor: _a);
    }

    [Fact]
    public void ResponseByANetworkThatIsNotARecipientIsRefused()
    {
        Published();
        var stranger = Make.NodeId();

        _log.Refuse(Respond(stranger, Pledge()), RefusalKind.PermissionDenied, Rules.Recipients, actor: stranger);
    }

    [Fact]
    public void ResponseOnBehalfOfAnotherNetworkIsRefused()
    {
        Published();

        _log.Refuse(Respond(_a, Pledge()), RefusalKind.PermissionDenied, Rules.Recipients, actor: _b);
    }

    [Fact]
    public void IssuerCannotRespondForARecipient()
    {
        Published();

        _log.Refuse(Respond(_a, Pledge()), RefusalKind.PermissionDenied, Rules.Recipients);
    }

    [Fact]
    public void DeclineIsRecordedWithItsReason()
    {
        Published();

        _log.Append(Respond(_b, Decline("Not this week")), actor: _b);

        Assert.Equal(Decline("Not this week"), Assert.Single(_log.State!.Responses).Latest);
    }

    [Fact]
    public void UnableWithoutAPriorPledgeIsRefused()
    {
        Published();

        _log.Refuse(Respond(_a, Unable()), RefusalKind.FailedPrecondition, Rules.Recipients, actor: _a);
    }

    [Fact]
    public void UnableAfterADeclineIsRefused()
    {
        Published();
        _log.Append(Respond(_a, Decline()), actor: _a);

        _log.Refuse(Respond(_a, Unable()), RefusalKind.FailedPrecondition, Rules.Recipients, actor: _a);
    }

    [Fact]
    public void UnableWithdrawsAPledge()
    {
        Published();
        _log.Append(Respond(_a, Pledge()), actor: _a);

        _log.Append(Respond(_a, Unable("Our van broke down")), actor: _a);

        var row = Assert.Single(_log.State!.Responses);
        Assert.Equal(ResponseKind.Unable, row.Latest.Kind);
        Assert.Equal("Our van broke down", row.Latest.Reason);
        Assert.Equal(2U, row.Responses);
    }

    [Fact]
    public void UnableIsRefusedOnceThePledgeIsWithdrawn()
    {
        Published();
        _log.Append(Respond(_a, Pledge()), actor: _a);
        _log.Append(Respond(_a, Unable()), actor: _a);

        _log.Refuse(Respond(_a, Unable()), RefusalKind.FailedPrecondition, Rules.Recipients, actor: _a);
    }

    [Fact]
    public void ReportBackWithoutAReportIsRefused()
    {
        Published();

        _log.Refuse(Respond(_a, ReportBack("")), RefusalKind.InvalidArgument, "valid input", actor: _a);
    }

    [Fact]
    public void ResponseOfUnspecifiedKindIsRefused()
    {
        Published();

        _log.Refuse(Respond(_a, new CallOutResponse { PlannedDate = "Friday" }), RefusalKind.InvalidArgument, "valid input", actor: _a);
    }

    [Fact]
    public void EmptyResponseIsRefused()
    {
        Published();

        _log.Refuse(new EventBody { CallOutResponded = new CallOutResponded { Network = _a } }, RefusalKind.InvalidArgument, "valid input", actor: _a);
    }

    [Fact]
    public void EachNetworkHasOneRowWithItsLatestResponseAndItsResponseCount()
    {
        Published();

        _log.Append(Respond(_a, Pledge("Friday")), actor: _a);
        _log.Append(Respond(_b, Decline("Too far")), actor: _b);
        _log.Append(Respond(_a, Unable()), actor: _a);
        _log.Append(Respond(_a, Pledge("Saturday")), actor: _a);

        var rows = _log.State!.Responses;
        Assert.Equal(2, rows.Count);
        var a = Assert.Single(rows, r => r.Network == _a);
        Assert.Equal(Pledge("Saturday"), a.Latest);
        Assert.Equal(3U, a.Responses);
        var b = Assert.Single(rows, r => r.Network == _b);
        Assert.Equal(Decline("Too far"), b.Latest);
        Assert.Equal(1U, b.Responses);
    }

    // ---- Closing and cancelling -----------------------------------------------

    [Fact]
    public void ClosingRecordsTheReason()
    {
        var state = Published();

        _log.Append(CallOuts.Close(state, cancelled: false, "The window has passed"));

        Assert.True(_log.State!.Closed);
        Assert.False(_log.State.Cancelled);
        Assert.Equal("The window has passed", _log.State.CloseReason);
    }

    [Fact]
    public void CancellingClosesAndMarksCancelled()
    {
        var state = Published();

        _log.Append(CallOuts.Close(state, cancelled: true, "The boss paid up"));

        Assert.True(_log.State!.Closed);
        Assert.True(_log.State.Cancelled);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void CallOutCannotBeClosedTwice(bool cancelledFirst, bool cancelledSecond)
    {
        var state = Published();
        _log.Append(CallOuts.Close(state, cancelledFirst, ""));

        _log.Refuse(CallOuts.Close(_log.State!, cancelledSecond, ""), RefusalKind.FailedPrecondition, Rules.CallOutOpen);
    }

    [Fact]
    public void ClosingByARecipientIsRefused()
    {
        var state = Published();

        _log.Refuse(CallOuts.Close(state, cancelled: true, ""), RefusalKind.PermissionDenied, Rules.OriginAuthority, actor: _a);
        Assert.False(_log.State!.Closed);
    }

    [Fact]
    public void CloseReasonWithAControlCharacterIsRefused()
    {
        var state = Published();

        Make.Invalid(() => CallOuts.Close(state, cancelled: false, "done\u0007"));
        _log.Refuse(new EventBody { CallOutClosed = new CallOutClosed { Reason = "done\u0007" } }, RefusalKind.InvalidArgument, "valid input");
    }

    [Theory]
    [InlineData(ResponseKind.Pledge)]
    [InlineData(ResponseKind.Decline)]
    [InlineData(ResponseKind.Unable)]
    [InlineData(ResponseKind.ReportBack)]
    public void NoResponseIsTakenAfterCancellation(ResponseKind kind)
    {
        Published();
        _log.Append(Respond(_a, Pledge()), actor: _a);
        _log.Append(CallOuts.Close(_log.State!, cancelled: true, "Cancelled"));
        var response = kind switch
        {
            ResponseKind.Pledge => Pledge(),
            ResponseKind.Decline => Decline(),
            ResponseKind.Unable => Unable(),
            _ => ReportBack(),
        };

        _log.Refuse(Respond(_a, response), RefusalKind.FailedPrecondition, Rules.CallOutOpen, actor: _a);
    }

    [Theory]
    [InlineData(ResponseKind.Pledge)]
    [InlineData(ResponseKind.Decline)]
    [InlineData(ResponseKind.Unable)]
    public void OnlyReportBacksAreTakenAfterClosing(ResponseKind kind)
    {
        Published();
        _log.Append(Respond(_a, Pledge()), actor: _a);
        _log.Append(CallOuts.Close(_log.State!, cancelled: false, "Window over"));
        var response = kind switch
        {
            ResponseKind.Pledge => Pledge(),
            ResponseKind.Decline => Decline(),
            _ => Unable(),
        };

        _log.Refuse(Respond(_a, response), RefusalKind.FailedPrecondition, Rules.CallOutOpen, actor: _a);
    }

    [Fact]
    public void ReportBackIsTakenAfterClosing()
    {
        Published();
        _log.Append(Respond(_a, Pledge()), actor: _a);
        _log.Append(CallOuts.Close(_log.State!, cancelled: false, "Window over"));

        _log.Append(Respond(_a, ReportBack()), actor: _a);

        var row = Assert.Single(_log.State!.Responses);
        Assert.Equal(ReportBack(), row.Latest);
        Assert.Equal(2U, row.Responses);
    }

    // ---- CheckResponse: the delegate hears "no" at once -------------------------

    [Fact]
    public void CheckResponseAcceptsAValidPledgeWithoutChangingState()
    {
        var state = Published();
        var before = state.Clone();

        CallOuts.CheckResponse(state, _a, Pledge());

        Assert.Equal(before, state);
        Assert.Empty(state.Responses);
    }

    [Fact]
    public void CheckResponseRefusesANonRecipientWithoutChangingState()
    {
        var state = Published();
        var before = state.Clone();

        Make.Refused(() => CallOuts.CheckResponse(state, Make.NodeId(), Pledge()), RefusalKind.PermissionDenied, Rules.Recipients);

        Assert.Equal(before, state);
    }

    [Fact]
    public void CheckResponseRefusesAPledgeWithoutADate()
    {
        var state = Published();
        var before = state.Clone();

        Make.Invalid(() => CallOuts.CheckResponse(state, _a, Pledge("")));

        Assert.Equal(before, state);
    }

    [Fact]
    public void CheckResponseRefusesUnableWithoutAPledge()
    {
        var state = Published();

        Make.Refused(() => CallOuts.CheckResponse(state, _a, Unable()), RefusalKind.FailedPrecondition, Rules.Recipients);
    }

    [Fact]
    public void CheckResponseRefusesAPledgeToAClosedCallOutWithoutChangingState()
    {
        Published();
        _log.Append(CallOuts.Close(_log.State!, cancelled: false, ""));
        var state = _log.State!;
        var before = state.Clone();

        Make.Refused(() => CallOuts.CheckResponse(state, _a, Pledge()), RefusalKind.FailedPrecondition, Rules.CallOutOpen);
        CallOuts.CheckResponse(state, _a, ReportBack());

        Assert.Equal(before, state);
    }

    // ---- Submissions and sequence -------------------------------------------

    [Fact]
    public void ResponseSubmissionBecomesAResponseBySubmitter()
    {
        Published();
        var body = CallOuts.FromSubmission(new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            ObjectId = _log.ObjectId,
            SubmitterNode = _a,
            CallOutResponse = Pledge(),
        });

        Assert.Equal(_a, body.CallOutResponded.Network);
        Assert.Equal(Pledge(), body.CallOutResponded.Response);
        _log.Append(body, actor: _a);
        Assert.Equal(_a, Assert.Single(_log.State!.Responses).Network);
    }

    /// <summary>Issue 15 #9: an unshared report-back's text never enters the log every recipient holds.</summary>
    [Fact]
    public void AnUnsharedReportBackIsWithheldFromTheSharedLog()
    {
        Published();
        var unshared = new CallOutResponse(ReportBack()) { ShareWithRecipients = false, Incidents = "Two arrests" };

        var body = CallOuts.FromSubmission(new SubmissionPayload { SubmissionId = Guid.NewGuid().ToString(), ObjectId = _log.ObjectId, SubmitterNode = _a, CallOutResponse = unshared });

        Assert.Equal(new CallOutResponse { Kind = ResponseKind.ReportBack, Withheld = true }, body.CallOutResponded.Response);
        Assert.Equal(new CallOutResponse(unshared), CallOuts.IssuerOnly(unshared));
        Assert.Null(CallOuts.IssuerOnly(ReportBack()));
        _log.Refuse(Respond(_a, unshared), RefusalKind.PermissionDenied, Rules.Recipients, actor: _a);
        _log.Refuse(Respond(_a, new CallOutResponse { Kind = ResponseKind.ReportBack, Withheld = true, Incidents = "Two arrests" }),
            RefusalKind.InvalidArgument, "valid input", actor: _a);
        _log.Append(body, actor: _a);
        Assert.True(Assert.Single(_log.State!.Responses).Latest.Withheld);
    }

    [Fact]
    public void FightSubmissionToACallOutIsRefused()
    {
        Make.Invalid(() => CallOuts.FromSubmission(new SubmissionPayload
        {
            SubmitterNode = _a,
            AcceptInvitation = new AcceptInvitation { TermsHash = "abc" },
        }));
    }

    [Fact]
    public void CallOutResponseAfterAGapIsRefused()
    {
        Published();

        _log.Refuse(_log.Event(Respond(_a, Pledge()), actor: _a, sequence: 3), RefusalKind.FailedPrecondition, Rules.Sequence);
    }

    [Fact]
    public void ReplayedCallOutResponseIsRefused()
    {
        Published();
        var e = _log.Event(Respond(_a, Pledge()), actor: _a);
        _log.Append(e);

        _log.Refuse(e, RefusalKind.FailedPrecondition, Rules.Sequence);
        Assert.Equal(1U, _log.State!.Responses[0].Responses);
    }

    [Fact]
    public void FightEventInACallOutLogIsRefused()
    {
        Published();

        _log.Refuse(new EventBody { FightStatusChanged = new FightStatusChanged { From = FightStatus.Open, To = FightStatus.Won } },
            RefusalKind.InvalidArgument, "valid input");
    }
}
