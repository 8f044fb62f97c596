using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>Update, expiry and audience: the issuer's side of a call-out after it is published.</summary>
public class CallOutLifecycleTests
{
    // The test log stamps event n at 2025-03-01 12:00 + n minutes.
    private static readonly DateTimeOffset LogStart = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly Log<CallOutState> _log = new(ObjectKind.CallOut);
    private readonly string _a = Make.NodeId();
    private readonly string _b = Make.NodeId();

    private CallOutState Published(CallOutContent? content = null)
    {
        _log.Append(CallOuts.Publish(content ?? Make.Content(), [_a, _b]));
        return _log.State!;
    }

    private static EventBody Respond(string network, CallOutResponse response) =>
        new() { CallOutResponded = new CallOutResponded { Network = network, Response = response } };

    private static CallOutResponse Pledge() => new() { Kind = ResponseKind.Pledge, PlannedDate = "2025-03-07", Place = "Leeds" };

    private static CallOutResponse ReportBack() => new() { Kind = ResponseKind.ReportBack, Report = "We leafleted the branch.", Turnout = 6, ShareWithRecipients = true };

    private static Timestamp At(int minutesAfterLogStart) => Timestamp.FromDateTimeOffset(LogStart.AddMinutes(minutesAfterLogStart));

    private static CallOutContent ExpiringAt(int minutesAfterLogStart)
    {
        var content = Make.Content();
        content.ExpiresAt = At(minutesAfterLogStart);
        return content;
    }

    // ---- Update -----------------------------------------------------------------

    [Fact]
    public void AnUpdateByTheIssuerReplacesTheContentAndRecordsWhatChanged()
    {
        var state = Published();
        var content = state.Content.Clone();
        content.TalkingPoints = "Be polite to customers; we are here for the workers.";
        content.WindowEnd = Timestamp.FromDateTimeOffset(content.WindowEnd.ToDateTimeOffset().AddHours(2));

        var updated = _log.Append(CallOuts.Update(state, content));

        Assert.Equal(content, updated.Content);
        var revision = Assert.Single(updated.Revisions);
        Assert.Equal(2U, revision.Revision);
        Assert.Equal(new[] { "time window", "talking points" }, revision.ChangedFields);
        Assert.NotNull(revision.At);
    }

    [Fact]
    public void EachUpdateIsARevisionOfItsOwn()
    {
        var state = Published();
        var first = state.Content.Clone();
        first.Title = "Picket Acme on Saturday";
        state = _log.Append(CallOuts.Update(state, first));
        var second = state.Content.Clone();
        second.Places.Add(new Place { City = "York", Address = "2 Low St" });
        second.SafetyNotes = "Bring a legal observer.";

        state = _log.Append(CallOuts.Update(state, second));

        Assert.Equal(new uint[] { 2, 3 }, state.Revisions.Select(r => r.Revision));
        Assert.Equal(new[] { "title" }, state.Revisions[0].ChangedFields);
        Assert.Equal(new[] { "places", "safety and legal notes" }, state.Revisions[1].ChangedFields);
    }

    [Fact]
    public void ChangedFieldsNameEveryPartOfTheContentReadably()
    {
        var before = Make.Content();
        var after = new CallOutContent
        {
            Title = "Other",
            Target = new Target { Name = "Other Ltd" },
            ActionTypes = { ActionType.Online },
            TimeZone = "Europe/Paris",
            DemandSummary = "Other demand",
            TalkingPoints = "Say this",
            SafetyNotes = "Careful",
            ExpiresAt = At(600),
            FightId = Identifiers.NewObjectId(Make.NodeId()),
        };

        Assert.Equal(
            new[] { "title", "target", "places", "action types", "time window", "time zone", "demand summary", "talking points", "safety and legal notes", "expiry", "fight" },
            CallOuts.ChangedFields(before, after));
        Assert.Empty(CallOuts.ChangedFields(before, before.Clone()));
    }

    [Fact]
    public void AnUpdateThatChangesNothingIsRefused()
    {
        var state = Published();

        Make.Invalid(() => CallOuts.Update(state, state.Content.Clone()));
        _log.Refuse(new EventBody { CallOutUpdated = new CallOutUpdated { Content = state.Content.Clone() } }, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void AnUpdateByARecipientIsRefused()
    {
        var state = Published();
        var content = state.Content.Clone();
        content.Title = "Hijacked";

        _log.Refuse(CallOuts.Update(state, content), RefusalKind.PermissionDenied, Rules.OriginAuthority, actor: _a);
        Assert.Equal("Picket Acme on Friday", _log.State!.Content.Title);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AClosedOrCancelledCallOutCannotBeUpdated(bool cancelled)
    {
        var state = Published();
        var content = state.Content.Clone();
        content.Title = "Too late";
        var update = CallOuts.Update(state, content);
        _log.Append(CallOuts.Close(state, cancelled, ""));

        var ex = _log.Refuse(update, RefusalKind.FailedPrecondition, Rules.CallOutOpen);
        Assert.Contains(cancelled ? "cancelled" : "closed", ex.Message);
    }

    [Fact]
    public void AnUpdateWhoseListOfChangesIsWrongIsRefusedAtReplicas()
    {
        var state = Published();
        var content = state.Content.Clone();
        content.DemandSummary = "Pay double now.";
        // A careless or hostile origin hides the change to the demand behind a harmless name.
        var body = new EventBody { CallOutUpdated = new CallOutUpdated { Content = content, ChangedFields = { "talking points" } } };

        var ex = _log.Refuse(body, RefusalKind.InvalidArgument, "valid input");
        Assert.Contains("demand summary", ex.Message);
    }

    [Fact]
    public void UpdatedContentIsCheckedLikeAPublishedOne()
    {
        var state = Published();
        var content = state.Content.Clone();
        content.Title = "";

        Make.Invalid(() => CallOuts.Update(state, content));
        _log.Refuse(new EventBody { CallOutUpdated = new CallOutUpdated { Content = content, ChangedFields = { "title" } } }, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void ResponsesSurviveAnUpdate()
    {
        var state = Published();
        _log.Append(Respond(_a, Pledge()), actor: _a);
        var content = _log.State!.Content.Clone();
        content.TimeZone = "Europe/Dublin";

        var updated = _log.Append(CallOuts.Update(_log.State!, content));

        Assert.Equal(Pledge(), Assert.Single(updated.Responses).Latest);
    }

    // ---- Expiry -------------------------------------------------------------------

    [Fact]
    public void ACallOutThatWouldExpireBeforeItIsPublishedIsRefused()
    {
        // Event 1 happens at minute 1; an expiry at minute 1 has already come.
        _log.Refuse(CallOuts.Publish(ExpiringAt(1), [_a]), RefusalKind.InvalidArgument, Rules.Expiry);
    }

    [Fact]
    public void AnUpdateCannotMoveTheExpiryIntoThePast()
    {
        var state = Published(ExpiringAt(60));
        var content = state.Content.Clone();
        content.ExpiresAt = At(0);

        _log.Refuse(CallOuts.Update(state, content), RefusalKind.InvalidArgument, Rules.Expiry);
    }

    [Fact]
    public void ExpiryClosesTheCallOutOnceItsTimeHasCome()
    {
        var state = Published(ExpiringAt(2));

        var expired = _log.Append(CallOuts.Expire(state, LogStart.AddMinutes(2)));

        Assert.True(expired.Closed);
        Assert.True(expired.Expired);
        Assert.False(expired.Cancelled);
        Assert.Contains("Expired", expired.CloseReason);
    }

    [Fact]
    public void TheSweepDoesNotExpireACallOutBeforeItsTime()
    {
        var state = Published(ExpiringAt(60));

        Make.Refused(() => CallOuts.Expire(state, LogStart.AddMinutes(59)), RefusalKind.FailedPrecondition, Rules.Expiry);
        Assert.False(CallOuts.IsPastExpiry(state, LogStart.AddMinutes(59)));
        Assert.True(CallOuts.IsPastExpiry(state, LogStart.AddMinutes(60)));
    }

    [Fact]
    public void ACallOutWithoutAnExpiryNeverExpires()
    {
        var state = Published();

        Assert.False(CallOuts.IsPastExpiry(state, DateTimeOffset.MaxValue));
        Make.Refused(() => CallOuts.Expire(state, DateTimeOffset.MaxValue), RefusalKind.FailedPrecondition, Rules.Expiry);
    }

    [Fact]
    public void AnExpiryCloseBeforeTheExpiryIsRefusedAtReplicas()
    {
        Published(ExpiringAt(60));

        _log.Refuse(new EventBody { CallOutClosed = new CallOutClosed { Expired = true } }, RefusalKind.FailedPrecondition, Rules.Expiry);
        Assert.False(_log.State!.Closed);
    }

    [Fact]
    public void AnExpiryIsNotACancellation()
    {
        // The close would be event 2, at minute 2: the expiry has come, so only the cancel flag is wrong.
        Published(ExpiringAt(2));

        _log.Refuse(new EventBody { CallOutClosed = new CallOutClosed { Expired = true, Cancelled = true } }, RefusalKind.FailedPrecondition, Rules.Expiry);
    }

    [Fact]
    public void AnExpiredCallOutCannotBeExpiredAgain()
    {
        var state = _log.Append(CallOuts.Publish(ExpiringAt(2), [_a]));
        state = _log.Append(CallOuts.Expire(state, LogStart.AddMinutes(2)));

        Make.Refused(() => CallOuts.Expire(state, LogStart.AddMinutes(3)), RefusalKind.FailedPrecondition, Rules.CallOutOpen);
    }

    [Fact]
    public void APledgeAfterTheExpiryIsRefusedEvenBeforeTheSweepHasClosedIt()
    {
        // Published at minute 1, expires at minute 2; the pledge would be event 2, at minute 2.
        var state = Published(ExpiringAt(2));

        _log.Refuse(Respond(_a, Pledge()), RefusalKind.FailedPrecondition, Rules.Expiry, actor: _a);
        Make.Refused(() => CallOuts.CheckResponse(state, _a, Pledge(), LogStart.AddMinutes(5)), RefusalKind.FailedPrecondition, Rules.Expiry);
    }

    [Fact]
    public void AReportBackIsTakenAfterTheExpiry()
    {
        var state = Published(ExpiringAt(2));
        state = _log.Append(CallOuts.Expire(state, LogStart.AddMinutes(2)));

        state = _log.Append(Respond(_a, ReportBack()), actor: _a);

        Assert.Equal(ReportBack(), Assert.Single(state.Responses).Latest);
    }

    // ---- Audience -----------------------------------------------------------------

    private (string, string)[] Peers() => [(_a, "Leeds"), (_b, " york "), (Make.NodeId(), "")];

    [Fact]
    public void AllPeersMeansEveryActivePeer()
    {
        var peers = Peers();

        Assert.Equal(peers.Select(p => p.Item1), CallOuts.ResolveAudience(new CallOutAudience { Kind = AudienceKind.AllPeers }, peers));
    }

    [Fact]
    public void ChosenPeersAreTheRecipients()
    {
        var to = CallOuts.ResolveAudience(new CallOutAudience { Kind = AudienceKind.ChosenPeers, Networks = { _b, _b } }, Peers());

        Assert.Equal(new[] { _b }, to);
    }

    [Fact]
    public void AChosenNetworkThatIsNotAPeerIsRefused()
    {
        var stranger = Make.NodeId();

        var ex = Make.Refused(() => CallOuts.ResolveAudience(new CallOutAudience { Kind = AudienceKind.ChosenPeers, Networks = { _a, stranger } }, Peers()),
            RefusalKind.FailedPrecondition, "explicit peering");
        Assert.Contains(Identifiers.Fingerprint(stranger), ex.Message);
    }

    [Fact]
    public void ChoosingNoPeersIsRefused()
    {
        Make.Invalid(() => CallOuts.ResolveAudience(new CallOutAudience { Kind = AudienceKind.ChosenPeers }, Peers()));
    }

    [Fact]
    public void RegionsMatchPeersWhateverTheCaseAndSpacing()
    {
        var to = CallOuts.ResolveAudience(new CallOutAudience { Kind = AudienceKind.Regions, Regions = { "YORK", "leeds " } }, Peers());

        Assert.Equal(new[] { _a, _b }, to);
    }

    [Fact]
    public void ARegionWithNoPeersIsRefusedAndTheKnownRegionsAreNamed()
    {
        var ex = Make.Refused(() => CallOuts.ResolveAudience(new CallOutAudience { Kind = AudienceKind.Regions, Regions = { "Hull" } }, Peers()),
            RefusalKind.FailedPrecondition, Rules.Recipients);

        Assert.Contains("'Hull'", ex.Message);
        Assert.Contains("Leeds, york", ex.Message);
    }

    [Fact]
    public void ARegionAudienceWithoutRegionsIsRefused()
    {
        Make.Invalid(() => CallOuts.ResolveAudience(new CallOutAudience { Kind = AudienceKind.Regions }, Peers()));
    }

    [Fact]
    public void AnAudienceWithoutPeersIsRefused()
    {
        Make.Refused(() => CallOuts.ResolveAudience(new CallOutAudience { Kind = AudienceKind.AllPeers }, []), RefusalKind.FailedPrecondition, Rules.Recipients);
    }

    [Fact]
    public void AnUnspecifiedAudienceIsRefused()
    {
        Make.Invalid(() => CallOuts.ResolveAudience(new CallOutAudience(), Peers()));
    }

    [Fact]
    public void ThePublishedAudienceIsKeptInTheState()
    {
        var audience = new CallOutAudience { Kind = AudienceKind.Regions, Regions = { "Leeds" } };

        var state = _log.Append(CallOuts.Publish(Make.Content(), [_a], audience));

        Assert.Equal(audience, state.Audience);
    }

    [Fact]
    public void ChosenPeersThatDifferFromTheRecipientsAreRefusedAtReplicas()
    {
        var audience = new CallOutAudience { Kind = AudienceKind.ChosenPeers, Networks = { _a } };

        _log.Refuse(CallOuts.Publish(Make.Content(), [_a, _b], audience), RefusalKind.InvalidArgument, "valid input");
    }
}
