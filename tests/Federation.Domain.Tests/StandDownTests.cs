using Federation.Contracts.V1;
using Google.Protobuf;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Rule 7: shared outcome. When the fight ends every network still in it must acknowledge the stand-down.</summary>
public class StandDownTests
{
    [Theory]
    [InlineData(FightStatus.Won)]
    [InlineData(FightStatus.Settled)]
    [InlineData(FightStatus.Lost)]
    [InlineData(FightStatus.CalledOff)]
    public void EndingTheFightSendsAStandDownToEveryNetworkStillInIt(FightStatus ending)
    {
        var fight = Opened();
        var committed = Committed(fight);
        var awaiting = Committed(fight);
        Amend(fight);
        var recommitted = Committed(fight);
        var invited = Invited(fight);
        var declined = Declined(fight);
        var released = Released(fight);
        Assert.Equal(ParticipantState.AwaitingReaffirmation, ParticipantOf(fight, awaiting).State);

        End(fight, ending);

        Assert.True(ParticipantOf(fight, committed).StandDownPending);
        Assert.True(ParticipantOf(fight, awaiting).StandDownPending);
        Assert.True(ParticipantOf(fight, recommitted).StandDownPending);
        Assert.False(ParticipantOf(fight, invited).StandDownPending);
        Assert.False(ParticipantOf(fight, declined).StandDownPending);
        Assert.False(ParticipantOf(fight, released).StandDownPending);
    }

    [Fact]
    public void StatusChangesBeforeTheEndSendNoStandDown()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Escalating, ""));
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Paused, ""));

        Assert.False(ParticipantOf(fight, network).StandDownPending);
    }

    [Fact]
    public void AcknowledgingTheStandDownClearsItAndRecordsWhen()
    {
        var fight = Opened();
        var network = Committed(fight);
        var other = Committed(fight);
        End(fight);
        var e = fight.Event(AcknowledgeStandDown(network), actor: network);

        fight.Append(e);

        var p = ParticipantOf(fight, network);
        Assert.False(p.StandDownPending);
        Assert.Equal(e.OccurredAt, p.StandDownAcknowledgedAt);
        Assert.True(ParticipantOf(fight, other).StandDownPending);
        Assert.Null(ParticipantOf(fight, other).StandDownAcknowledgedAt);
    }

    [Fact]
    public void NetworkAskedToReaffirmAcknowledgesTheStandDownToo()
    {
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);
        End(fight);

        fight.Append(AcknowledgeStandDown(network), actor: network);

        Assert.False(ParticipantOf(fight, network).StandDownPending);
        Assert.NotNull(ParticipantOf(fight, network).StandDownAcknowledgedAt);
    }

    [Fact]
    public void StandDownCannotBeAcknowledgedTwice()
    {
        var fight = Opened();
        var network = Committed(fight);
        End(fight);
        fight.Append(AcknowledgeStandDown(network), actor: network);

        fight.Refuse(AcknowledgeStandDown(network), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }

    [Fact]
    public void StandDownCannotBeAcknowledgedBeforeTheEnd()
    {
        var fight = Opened();
        var network = Committed(fight);

        var ex = fight.Refuse(AcknowledgeStandDown(network), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);

        Assert.Contains("not ended", ex.Message);
    }

    [Fact]
    public void StandDownCannotBeAcknowledgedForAnotherNetwork()
    {
        var fight = Opened();
        var network = Committed(fight);
        var other = Committed(fight);
        End(fight);

        fight.Refuse(AcknowledgeStandDown(network), RefusalKind.PermissionDenied, Rules.SharedOutcome, actor: other);
    }

    [Fact]
    public void InitiatorCannotAcknowledgeAStandDownOnAParticipantsBehalf()
    {
        var fight = Opened();
        var network = Committed(fight);
        End(fight);

        fight.Refuse(AcknowledgeStandDown(network), RefusalKind.PermissionDenied, Rules.SharedOutcome);
    }

    [Fact]
    public void NetworkThatWasOnlyInvitedHasNoStandDownToAcknowledge()
    {
        var fight = Opened();
        var network = Invited(fight);
        End(fight);

        fight.Refuse(AcknowledgeStandDown(network), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }

    [Fact]
    public void ReleasedNetworkHasNoStandDownToAcknowledge()
    {
        var fight = Opened();
        var network = Released(fight);
        End(fight);

        fight.Refuse(AcknowledgeStandDown(network), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }
}

/// <summary>Who receives a fight's events.</summary>
public class FightAudienceTests
{
    [Fact]
    public void FightGoesToNetworksInvitedCommittedOrAskedToReaffirm()
    {
        var fight = Opened();
        var awaiting = Committed(fight);
        Amend(fight);
        var committed = Committed(fight);
        var invited = Invited(fight);
        var declined = Declined(fight);
        var released = Released(fight);

        var audience = Audience.Of(fight.State);

        Assert.Equal(new[] { awaiting, committed, invited }.Order(), audience.Order());
        Assert.DoesNotContain(declined, audience);
        Assert.DoesNotContain(released, audience);
        Assert.DoesNotContain(fight.Origin, audience);
    }

    [Fact]
    public void NetworkThatDeclinesAnAmendmentLeavesTheAudience()
    {
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);
        Assert.Contains(network, Audience.Of(fight.State));

        fight.Append(DeclineAmendment(network), actor: network);

        Assert.DoesNotContain(network, Audience.Of(fight.State));
    }

    [Fact]
    public void DraftHasNoAudienceEvenWithParticipantsOnRecord()
    {
        var fight = Opened();
        Committed(fight);
        Invited(fight);
        var draft = fight.State!.Clone();
        draft.Status = FightStatus.Draft;

        Assert.Empty(Audience.Of(draft));
        Assert.NotEmpty(Audience.Of(fight.State));
    }

    [Fact]
    public void DraftMadeByTheCommandHasNoAudience()
    {
        var log = new Log<FightState>(ObjectKind.Fight);

        Assert.Empty(Audience.Of(FightTests.Draft(log)));
        Assert.Empty(Audience.Of((IMessage?)null));
    }
}
