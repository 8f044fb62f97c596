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
