using Federation.Contracts.V1;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Issue 17 #1: who hears of which fight event, and what a notice may say within the tier rules.</summary>
public class FightNoticeTests
{
    private static string Name(string node) => $"net-{node[..6]}";

    /// <summary>The notice the last event appended gives <paramref name="self"/>, as that node holds the fight now.</summary>
    private static FightNotice? Last(Log<FightState> fight, string self) =>
        FightNotices.For(EventPayload.Parser.ParseFrom(fight.Events[^1]), fight.State, self, Name);

    [Fact]
    public void AnInvitationIsNoticedByTheInvitedNetworkOnly()
    {
        var fight = Opened();
        var other = Committed(fight);
        var invited = Invited(fight);

        var notice = Assert.IsType<FightNotice>(Last(fight, invited));

        Assert.Equal((InboxChange.Invited, fight.ObjectId, "Acme wage theft"), (notice.Change, notice.FightId, notice.Title));
        Assert.Contains($"invites you to a joint fight: Acme wage theft (target: Acme Cleaning Ltd)", notice.Summary);
        Assert.Contains(Name(fight.Origin), notice.Summary);
        Assert.Equal($"solnet fight show {fight.ObjectId}; then solnet fight accept {fight.ObjectId} {fight.State!.TermsHash} or solnet fight decline {fight.ObjectId}", notice.Act);
        Assert.Null(Last(fight, other));
        Assert.Null(Last(fight, fight.Origin));
    }

    [Fact]
    public void AnAmendmentAsksCommittedNetworksToReaffirmAndTellsInvitedOnesTheOfferChanged()
    {
        var fight = Opened();
        var committed = Committed(fight);
        var invited = Invited(fight);
        var declined = Declined(fight);
        var released = Released(fight);

        var hash = Amend(fight, note: "The tenant asked");

        var asked = Assert.IsType<FightNotice>(Last(fight, committed));
        Assert.Equal(InboxChange.Amended, asked.Change);
        Assert.Contains("reaffirm them to stay in the fight", asked.Summary);
        Assert.Contains("(The tenant asked)", asked.Summary);
        Assert.Contains($"solnet fight reaffirm {fight.ObjectId} {hash}", asked.Act);
        var offered = Assert.IsType<FightNotice>(Last(fight, invited));
        Assert.Contains("your invitation now offers the new version", offered.Summary);
        Assert.Contains($"solnet fight accept {fight.ObjectId} {hash}", offered.Act);
        Assert.Null(Last(fight, declined));
        Assert.Null(Last(fight, released));
        Assert.Null(Last(fight, fight.Origin));
    }

    [Fact]
    public void AStandDownReachesEveryNetworkStillInTheFightWithTheAcknowledgeAction()
    {
        var fight = Opened();
        var committed = Committed(fight);
        var awaiting = Committed(fight);
        Amend(fight);
        var invited = Invited(fight);
        var declined = Declined(fight);

        End(fight, FightStatus.Settled);

        foreach (var network in new[] { committed, awaiting })
        {
            var notice = Assert.IsType<FightNotice>(Last(fight, network));
            Assert.Equal(InboxChange.StandDown, notice.Change);
            Assert.Contains("Stand down", notice.Summary);
            Assert.Contains("settled", notice.Summary);
            Assert.Contains("(The outcome)", notice.Summary);
            Assert.Equal($"solnet fight ack {fight.ObjectId}", notice.Act);
        }
        Assert.Null(Last(fight, invited));
        Assert.Null(Last(fight, declined));
        Assert.Null(Last(fight, fight.Origin));
    }

    [Fact]
    public void AStatusChangeThatDoesNotEndTheFightIsNotNoticed()
    {
        var fight = Opened();
        var committed = Committed(fight);

        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Escalating, "More pressure"));

        Assert.Null(Last(fight, committed));
    }

    [Fact]
    public void AReleaseRequestReachesTheInitiatorAndTheGrantReachesTheReleasedNetwork()
    {
        var fight = Opened();
        var leaving = Committed(fight);
        var staying = Committed(fight);

        fight.Append(RequestRelease(leaving, "We lost our meeting space"), actor: leaving);

        var request = Assert.IsType<FightNotice>(Last(fight, fight.Origin));
        Assert.Equal(InboxChange.ReleaseRequested, request.Change);
        Assert.Contains($"{Name(leaving)} asks to be released from Acme wage theft. (We lost our meeting space)", request.Summary);
        Assert.Equal($"solnet fight release {fight.ObjectId} {Identifiers.Fingerprint(leaving)}", request.Act);
        Assert.Null(Last(fight, leaving)); // its own request
        Assert.Null(Last(fight, staying));

        fight.Append(Fights.Release(leaving, "Good luck"));

        Assert.Equal(InboxChange.Released, Assert.IsType<FightNotice>(Last(fight, leaving)).Change);
        Assert.Null(Last(fight, staying));
        Assert.Null(Last(fight, fight.Origin));
    }

    [Fact]
    public void ABriefingsTextIsParticipantsOnlyAndNeverInTheSummary()
    {
        var fight = Opened();
        var committed = Committed(fight);
        var invited = Invited(fight);
        const string secret = "Meet behind the depot at 6; bring the banner";
        var posted = new EventPayload
        {
            ObjectId = Briefings.IdOf(fight.ObjectId),
            ObjectKind = ObjectKind.Briefings,
            OriginNode = fight.Origin,
            ActorNode = fight.Origin,
            Body = new EventBody { BriefingPosted = new BriefingPosted { Text = secret } },
        };

        var notice = Assert.IsType<FightNotice>(FightNotices.For(posted, fight.State, committed, Name));

        Assert.Equal(InboxChange.BriefingPosted, notice.Change);
        Assert.Equal(secret, notice.ParticipantsOnly);
        Assert.DoesNotContain(secret, notice.Summary);
        Assert.DoesNotContain(secret, notice.Act);
        Assert.Null(FightNotices.For(posted, fight.State, invited, Name));
    }

    [Fact]
    public void AReferralReachesTheInitiatorOnlyAndNoNoticeCarriesItsText()
    {
        var fight = Opened();
        var committed = Committed(fight);
        const string secret = "The manager rang Dave at home and offered him £500 to drop it";
        var referral = new FightReport { FightId = fight.ObjectId, Network = committed, Kind = ReportKind.Referral, Summary = secret };
        var police = new FightReport { FightId = fight.ObjectId, Network = committed, Kind = ReportKind.Police, Summary = secret };

        var told = Assert.IsType<FightNotice>(FightNotices.ForReport(referral, fight.State, fight.Origin, Name));
        var incident = Assert.IsType<FightNotice>(FightNotices.ForReport(police, fight.State, fight.Origin, Name));

        Assert.Equal((InboxChange.ReportFiled, fight.ObjectId), (told.Change, told.FightId));
        Assert.Contains($"{Name(committed)} filed a referral (the target contacted them) with you in Acme wage theft", told.Summary);
        Assert.Contains("filed an incident report with you", incident.Summary);
        Assert.Equal("Kind: police", incident.ParticipantsOnly);
        Assert.Equal($"solnet fight reports {fight.ObjectId}", told.Act);
        foreach (var notice in new[] { told, incident })
        {
            Assert.DoesNotContain(secret, notice.Summary + notice.Act + notice.ParticipantsOnly);
        }
        // Only the initiator hears, and never of a report it filed itself.
        Assert.Null(FightNotices.ForReport(referral, fight.State, committed, Name));
        Assert.Null(FightNotices.ForReport(new FightReport { FightId = fight.ObjectId, Network = fight.Origin, Kind = ReportKind.Referral }, fight.State, fight.Origin, Name));
        Assert.Null(FightNotices.ForReport(referral, null, fight.Origin, Name));
    }

    [Fact]
    public void TheInitiatorHearsOfAcceptancesDeclinesReaffirmationsAcknowledgementsAndReportsAndNobodyElseDoes()
    {
        var fight = Opened();
        var other = Committed(fight);

        var joining = Invited(fight);
        fight.Append(Accept(joining, fight.State!.TermsHash), actor: joining);
        Assert.Equal(InboxChange.Accepted, Assert.IsType<FightNotice>(Last(fight, fight.Origin)).Change);
        Assert.Contains($"{Name(joining)} accepted the invitation to Acme wage theft", Last(fight, fight.Origin)!.Summary);
        Assert.Null(Last(fight, other));
        Assert.Null(Last(fight, joining));

        var refusing = Invited(fight);
        fight.Append(Submit(refusing, s => s.DeclineInvitation = new DeclineInvitation { Reason = "Too far away", Offer = "A call-in day" }), actor: refusing);
        var declined = Assert.IsType<FightNotice>(Last(fight, fight.Origin));
        Assert.Equal(InboxChange.Declined, declined.Change);
        Assert.Contains("declined the invitation to Acme wage theft. (Too far away) It offers instead: A call-in day", declined.Summary);

        Amend(fight);
        fight.Append(Reaffirm(other, fight.State!.TermsHash), actor: other);
        Assert.Contains("reaffirmed the amended terms", Assert.IsType<FightNotice>(Last(fight, fight.Origin)).Summary);
        fight.Append(DeclineAmendment(joining), actor: joining);
        Assert.Equal(InboxChange.Declined, Assert.IsType<FightNotice>(Last(fight, fight.Origin)).Change);

        var action = Planned(fight, other);
        fight.Append(Report(other, action, report: "Forty people, and the manager came out"), actor: other);
        var reported = Assert.IsType<FightNotice>(Last(fight, fight.Origin));
        Assert.Equal(InboxChange.ActionReported, reported.Change);
        Assert.DoesNotContain("manager", reported.Summary);

        End(fight);
        fight.Append(AcknowledgeStandDown(other), actor: other);
        Assert.Equal(InboxChange.StandDownAcknowledged, Assert.IsType<FightNotice>(Last(fight, fight.Origin)).Change);
        Assert.Null(Last(fight, other));
    }

    [Fact]
    public void WhatWaitsForThisNetworksAnswerIsAnInvitationAnAmendmentToReaffirmOrAStandDownToAcknowledge()
    {
        var fight = Opened();
        var invited = Invited(fight);
        var committed = Committed(fight);
        var declined = Declined(fight);

        Assert.Equal(InboxChange.Invited, FightNotices.Waiting(fight.State!, invited, Name)?.Change);
        Assert.Null(FightNotices.Waiting(fight.State!, committed, Name));
        Assert.Null(FightNotices.Waiting(fight.State!, declined, Name));
        Assert.Null(FightNotices.Waiting(fight.State!, fight.Origin, Name));

        var hash = Amend(fight);
        var reaffirm = Assert.IsType<FightNotice>(FightNotices.Waiting(fight.State!, committed, Name));
        Assert.Equal(InboxChange.Amended, reaffirm.Change);
        Assert.Contains($"solnet fight reaffirm {fight.ObjectId} {hash}", reaffirm.Act);

        fight.Append(Reaffirm(committed, hash), actor: committed);
        End(fight);
        Assert.Equal($"solnet fight ack {fight.ObjectId}", FightNotices.Waiting(fight.State!, committed, Name)?.Act);
        fight.Append(AcknowledgeStandDown(committed), actor: committed);
        Assert.Null(FightNotices.Waiting(fight.State!, committed, Name));
    }

    [Fact]
    public void AnEventOfAFightThisNodeNoLongerHoldsGivesNoNotice()
    {
        var fight = Opened();
        var invited = Invited(fight);

        Assert.Null(FightNotices.For(EventPayload.Parser.ParseFrom(fight.Events[^1]), null, invited, Name));
    }
}

/// <summary>Issue 17 #1: a channel can be limited to kinds of notification by name.</summary>
public class NotificationKindTests
{
    [Fact]
    public void KindsAreReadFromCommaSeparatedNamesEachOnceInTheTablesOrder()
    {
        Assert.Equal(["invitation", "stand-down"], NotificationKinds.Parse(["stand-down,invitation", " Invitation "]));
        Assert.Empty(NotificationKinds.Parse([]));
    }

    [Fact]
    public void AnUnknownKindIsRefusedNamingTheKnownOnes()
    {
        var ex = Make.Invalid(() => NotificationKinds.Parse(["stand-down,standdown"]));

        Assert.Contains("'standdown' is not a kind of notification", ex.Message);
        Assert.Contains("invitation, amendment, stand-down", ex.Message);
    }

    [Fact]
    public void EveryChangeBelongsToOneKind()
    {
        foreach (var change in Enum.GetValues<InboxChange>().Where(c => c != InboxChange.Unspecified))
        {
            Assert.Single(NotificationKinds.Table, k => k.Value.Contains(change));
        }
    }

    [Fact]
    public void AChannelWithoutKindsIsSentEveryKindAndALimitedOneOnlyItsOwn()
    {
        Assert.True(NotificationKinds.Wants([], InboxChange.BriefingPosted));
        Assert.True(NotificationKinds.Wants(["stand-down"], InboxChange.StandDown));
        Assert.False(NotificationKinds.Wants(["stand-down"], InboxChange.Invited));
        Assert.True(NotificationKinds.Wants(["call-out-end"], InboxChange.Expired));
    }
}

/// <summary>Issue 17 #2: which items are news to the people who started a call-out or fight.</summary>
public class WhatsNewTests
{
    private static readonly string Self = Make.NodeId();
    private static readonly string Other = Make.NodeId();

    private static InboxItem Responded(string issuer, bool own = false) => new()
    {
        Change = InboxChange.Responded,
        OwnAction = own,
        CallOut = new CallOutState { OriginNode = issuer },
    };

    [Fact]
    public void ResponsesToOurOwnCallOutAreNewsButOthersResponsesToTheirsAreNot()
    {
        Assert.True(News.Counts(Responded(Self), Self));
        Assert.False(News.Counts(Responded(Other), Self));
        Assert.False(News.Counts(Responded(Self, own: true), Self));
    }

    [Fact]
    public void AnswersInOurFightsAreNewsAndWhatAsksSomethingOfUsIsNot()
    {
        foreach (var change in new[] { InboxChange.Accepted, InboxChange.Declined, InboxChange.ReleaseRequested, InboxChange.StandDownAcknowledged, InboxChange.ReportFiled, InboxChange.ActionReported })
        {
            Assert.True(News.Counts(new InboxItem { Change = change }, Self), change.ToString());
        }
        foreach (var change in new[] { InboxChange.Invited, InboxChange.Amended, InboxChange.StandDown, InboxChange.Published, InboxChange.Updated, InboxChange.Closed })
        {
            Assert.False(News.Counts(new InboxItem { Change = change }, Self), change.ToString());
        }
    }

    [Fact]
    public void ACallOutAwaitsOurAnswerUntilWeAnswerOrItEnds()
    {
        var now = DateTimeOffset.UtcNow;
        var open = new CallOutState { OriginNode = Other, Content = new CallOutContent() };

        Assert.True(News.AwaitsAnswer(open, Self, now));
        Assert.False(News.AwaitsAnswer(new CallOutState(open) { OriginNode = Self }, Self, now));
        Assert.False(News.AwaitsAnswer(new CallOutState(open) { Closed = true }, Self, now));
        Assert.False(News.AwaitsAnswer(new CallOutState(open) { Content = new CallOutContent { ExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now.AddMinutes(-1)) } }, Self, now));
        Assert.False(News.AwaitsAnswer(new CallOutState(open) { Responses = { new ResponseRow { Network = Self } } }, Self, now));
        Assert.True(News.AwaitsAnswer(new CallOutState(open) { Responses = { new ResponseRow { Network = Other } } }, Self, now));
    }
}
