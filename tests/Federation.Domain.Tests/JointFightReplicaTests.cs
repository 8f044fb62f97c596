using Federation.Contracts.V1;
using Google.Protobuf;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Every replica folds the origin's bytes to the origin's state.</summary>
public class JointFightReplicaTests
{
    private static FightState Replay(IEnumerable<byte[]> events) =>
        (FightState)events.Aggregate((IMessage?)null, (s, bytes) => EventLog.Apply(s, EventPayload.Parser.ParseFrom(bytes)))!;

    [Fact]
    public void ReplicaFoldingAWholeCampaignReachesTheOriginsState()
    {
        var fight = Opened();
        var a = Committed(fight);
        var b = Committed(fight);
        var c = Declined(fight);
        var d = Invited(fight);
        var e = Committed(fight);

        fight.Append(Fights.DeliverDemand(At(14, 17), "Handed to the manager"));
        fight.Append(Fights.RecordCommunication(CommunicationKind.Reply, "They deny everything"));
        var originAction = Planned(fight, fight.Origin, day: 8);
        var aAction = Planned(fight, a, day: 9);
        var bAction = Planned(fight, b, day: 10);
        fight.Append(Update(b, bAction, PlanOn(11, "Noise demo")), actor: b);
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Escalating, "Pickets start"));

        fight.Append(RequestRelease(e, "Our members are on strike themselves"), actor: e);
        fight.Append(Fights.Release(e, "Good luck with your strike"));

        var amended = Amend(fight, AmendedTerms(), "Add union recognition");
        fight.Append(Reaffirm(a, amended), actor: a);
        fight.Append(DeclineAmendment(b, "Recognition is not our fight"), actor: b);
        fight.Append(Accept(d, amended), actor: d);
        var dAction = Planned(fight, d, day: 12);
        fight.Append(Cancel(a, aAction, "Venue closed"), actor: a);
        fight.Append(Fights.RecordCommunication(CommunicationKind.SettlementOffer, "Half the wages"));
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Paused, "Talks"));
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Escalating, "Talks failed"));
        fight.Append(Report(fight.Origin, originAction, "Thirty people", 30));
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Won, "All wages paid"));
        fight.Append(AcknowledgeStandDown(a), actor: a);
        fight.Append(Report(d, dAction, "Reported after the win", 12), actor: d);

        var replica = Replay(fight.Events);

        Assert.Equal(fight.State, replica);
        // The scenario did what it set out to do, so the comparison covers every part of the state.
        Assert.Equal(2, replica.Versions.Count);
        Assert.NotEmpty(replica.AmendmentDiff);
        Assert.Equal(2, replica.Communications.Count);
        Assert.NotNull(replica.DemandDeliveredAt);
        Assert.Equal(FightStatus.Won, replica.Status);
        Assert.Equal(ParticipantState.Committed, ParticipantOf(fight, a).State);
        Assert.False(ParticipantOf(fight, a).StandDownPending);
        Assert.NotNull(ParticipantOf(fight, a).StandDownAcknowledgedAt);
        Assert.Equal(ParticipantState.Released, ParticipantOf(fight, b).State);
        Assert.Equal(ParticipantState.Declined, ParticipantOf(fight, c).State);
        Assert.True(ParticipantOf(fight, d).StandDownPending);
        Assert.Equal(ParticipantState.Released, ParticipantOf(fight, e).State);
        Assert.Equal(
            new[] { ActionStatus.Reported, ActionStatus.Cancelled, ActionStatus.Planned, ActionStatus.Reported },
            replica.Actions.Select(x => x.Status));
    }

    [Fact]
    public void ReplicaRefusesAnActionForgedForAParticipantEvenIfTheOriginSignedIt()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);
        var forged = fight.Event(Update(network, id, PlanOn(20, "Something they never agreed to")));

        var replica = Replay(fight.Events);

        Make.Refused(() => EventLog.Apply(replica, forged), RefusalKind.PermissionDenied, Rules.Autonomy);
        Assert.Equal(fight.State, replica);
    }
}
