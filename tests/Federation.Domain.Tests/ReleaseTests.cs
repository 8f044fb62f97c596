using Federation.Contracts.V1;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Rule 3: in until the end. A participant may ask to be released; only the initiator releases it.</summary>
public class ReleaseTests
{
    // ---- Asking -----------------------------------------------------------------

    [Fact]
    public void CommittedNetworkMayAskToBeReleased()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Append(RequestRelease(network, "We lost our meeting space"), actor: network);

        var p = ParticipantOf(fight, network);
        Assert.True(p.ReleaseRequested);
        Assert.Equal("We lost our meeting space", p.ReleaseReason);
        Assert.Equal(ParticipantState.Committed, p.State); // asking is not leaving
    }

    [Fact]
    public void NetworkAskedToReaffirmMayAskToBeReleased()
    {
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);

        fight.Append(RequestRelease(network), actor: network);

        Assert.True(ParticipantOf(fight, network).ReleaseRequested);
        Assert.Equal(ParticipantState.AwaitingReaffirmation, ParticipantOf(fight, network).State);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void ReleaseRequestWithoutAReasonIsRefused(string reason)
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(RequestRelease(network, reason), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Fact]
    public void NetworkCannotAskToBeReleasedTwice()
    {
        var fight = Opened();
        var network = Committed(fight);
        fight.Append(RequestRelease(network), actor: network);

        fight.Refuse(RequestRelease(network, "Asking again"), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void InvitedNetworkCannotAskToBeReleased()
    {
        var fight = Opened();
        var network = Invited(fight);

        fight.Refuse(RequestRelease(network), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void NetworkThatDeclinedCannotAskToBeReleased()
    {
        var fight = Opened();
        var network = Declined(fight);

        fight.Refuse(RequestRelease(network), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void ReleasedNetworkCannotAskToBeReleasedAgain()
    {
        var fight = Opened();
        var network = Released(fight);

        fight.Refuse(RequestRelease(network), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void ReleaseRequestOnBehalfOfAnotherNetworkIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var other = Committed(fight);

        fight.Refuse(RequestRelease(network), RefusalKind.PermissionDenied, Rules.InUntilTheEnd, actor: other);
    }

    [Fact]
    public void ReleaseRequestByANetworkWithNoPartInTheFightIsRefused()
    {
        var fight = Opened();
        var stranger = Make.NodeId();

        fight.Refuse(RequestRelease(stranger), RefusalKind.PermissionDenied, Rules.InUntilTheEnd, actor: stranger);
    }

    [Fact]
    public void ReleaseRequestAfterTheFightHasEndedIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        End(fight);

        fight.Refuse(RequestRelease(network), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }

    // ---- Releasing --------------------------------------------------------------

    [Fact]
    public void InitiatorReleasesANetworkThatAskedWithItsReason()
    {
        var fight = Opened();
        var network = Committed(fight);
        fight.Append(RequestRelease(network, "We lost our meeting space"), actor: network);

        fight.Append(Fights.Release(network, "Released with thanks"));

        var p = ParticipantOf(fight, network);
        Assert.Equal(ParticipantState.Released, p.State);
        Assert.False(p.ReleaseRequested);
        Assert.Equal("Released with thanks", p.ReleaseReason);
    }

    [Fact]
    public void ReleaseWithoutAReasonKeepsTheReasonTheNetworkGave()
    {
        var fight = Opened();
        var network = Committed(fight);
        fight.Append(RequestRelease(network, "We lost our meeting space"), actor: network);

        fight.Append(Fights.Release(network, ""));

        Assert.Equal("We lost our meeting space", ParticipantOf(fight, network).ReleaseReason);
    }

    [Fact]
    public void InitiatorMayReleaseANetworkAskedToReaffirm()
    {
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);

        fight.Append(Fights.Release(network, "Did not reaffirm in time"));

        Assert.Equal(ParticipantState.Released, ParticipantOf(fight, network).State);
    }

    [Fact]
    public void NetworkCannotReleaseItself()
    {
        var fight = Opened();
        var network = Committed(fight);
        fight.Append(RequestRelease(network), actor: network);

        fight.Refuse(Fights.Release(network, "Leaving"), RefusalKind.PermissionDenied, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void ParticipantCannotReleaseAnotherNetwork()
    {
        var fight = Opened();
        var network = Committed(fight);
        var other = Committed(fight);

        fight.Refuse(Fights.Release(network, ""), RefusalKind.PermissionDenied, Rules.InUntilTheEnd, actor: other);
    }

    [Fact]
    public void InvitedNetworkCannotBeReleased()
    {
        var fight = Opened();
        var network = Invited(fight);

        fight.Refuse(Fights.Release(network, ""), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd);
    }

    [Fact]
    public void NetworkThatDeclinedCannotBeReleased()
    {
        var fight = Opened();
        var network = Declined(fight);

        fight.Refuse(Fights.Release(network, ""), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd);
    }

    [Fact]
    public void NetworkWithNoPartInTheFightCannotBeReleased()
    {
        var fight = Opened();

        fight.Refuse(Fights.Release(Make.NodeId(), ""), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd);
    }

    [Fact]
    public void NetworkCannotBeReleasedTwice()
    {
        var fight = Opened();
        var network = Released(fight);

        fight.Refuse(Fights.Release(network, ""), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd);
    }

    [Theory]
    [InlineData(FightStatus.Won)]
    [InlineData(FightStatus.Settled)]
    [InlineData(FightStatus.Lost)]
    [InlineData(FightStatus.CalledOff)]
    public void ReleaseAfterTheFightHasEndedIsRefused(FightStatus ending)
    {
        var fight = Opened();
        var network = Committed(fight);
        fight.Append(RequestRelease(network), actor: network);
        End(fight, ending);

        fight.Refuse(Fights.Release(network, ""), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    // ---- After release ----------------------------------------------------------

    [Fact]
    public void ReleasedNetworkCannotAcceptItsOldInvitation()
    {
        var fight = Opened();
        var network = Released(fight);

        var ex = fight.Refuse(Accept(network, fight.State!.TermsHash), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt, actor: network);
        Assert.Contains("released", ex.Message);
    }

    [Fact]
    public void ReleasedNetworkMayBeInvitedAgainAndCommit()
    {
        var fight = Opened();
        var network = Released(fight);

        fight.Append(Fights.Invite(fight.State!, network));
        Assert.Equal(ParticipantState.Invited, ParticipantOf(fight, network).State);
        fight.Append(Accept(network, fight.State!.TermsHash), actor: network);

        Assert.Equal(ParticipantState.Committed, ParticipantOf(fight, network).State);
    }

    [Fact]
    public void ReleasedNetworkCannotPlanActions()
    {
        var fight = Opened();
        var network = Released(fight);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.PermissionDenied, Rules.Autonomy, actor: network);
    }
}
