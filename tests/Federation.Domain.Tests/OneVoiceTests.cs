using Federation.Contracts.V1;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Rule 5: one voice to the target.</summary>
public class OneVoiceTests
{
    private static FileReport Filed(ReportKind kind, string summary = "The manager phoned our office") =>
        new() { Kind = kind, Summary = summary };

    // ---- Communications with the target -----------------------------------------

    [Fact]
    public void InitiatorsCommunicationWithTheTargetIsRecorded()
    {
        var fight = Opened();
        var e = fight.Event(Fights.RecordCommunication(CommunicationKind.SettlementOffer, "They offered half the wages"));

        fight.Append(e);

        var c = Assert.Single(fight.State!.Communications);
        Assert.Equal(CommunicationKind.SettlementOffer, c.Kind);
        Assert.Equal("They offered half the wages", c.Summary);
        Assert.Equal(e.OccurredAt, c.At);
    }

    [Theory]
    [InlineData(CommunicationKind.Reply)]
    [InlineData(CommunicationKind.Negotiation)]
    [InlineData(CommunicationKind.SettlementOffer)]
    [InlineData(CommunicationKind.Other)]
    public void ParticipantCannotRecordACommunicationWithTheTarget(CommunicationKind kind)
    {
        var fight = Opened();
        var network = Committed(fight);

        var ex = fight.Refuse(Fights.RecordCommunication(kind, "We talked to the manager"), RefusalKind.PermissionDenied, Rules.OneVoice, actor: network);

        Assert.Contains("referral", ex.Message);
    }

    [Theory]
    [InlineData(CommunicationKind.Unspecified)]
    [InlineData((CommunicationKind)99)]
    public void CommunicationOfNoKnownKindIsRefused(CommunicationKind kind)
    {
        var fight = Opened();

        fight.Refuse(Fights.RecordCommunication(kind, "They replied"), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void CommunicationWithoutASummaryIsRefused()
    {
        var fight = Opened();

        fight.Refuse(Fights.RecordCommunication(CommunicationKind.Reply, " "), RefusalKind.InvalidArgument, "valid input");
    }

    // ---- The demand -------------------------------------------------------------

    [Fact]
    public void DeliveringTheDemandRecordsWhenAndTheDeadline()
    {
        var fight = Opened();
        var deadline = At(14, 17);
        var e = fight.Event(Fights.DeliverDemand(deadline, "Handed to the manager"));

        fight.Append(e);

        Assert.Equal(e.OccurredAt, fight.State!.DemandDeliveredAt);
        Assert.Equal(deadline, fight.State.DemandDeadline);
    }

    [Fact]
    public void ParticipantCannotDeliverTheDemand()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(Fights.DeliverDemand(At(14, 17), ""), RefusalKind.PermissionDenied, Rules.OneVoice, actor: network);
    }

    [Fact]
    public void DemandCannotBeDeliveredAfterTheFightHasEnded()
    {
        var fight = Opened();
        End(fight, FightStatus.CalledOff);

        fight.Refuse(Fights.DeliverDemand(At(14, 17), ""), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    // ---- Referrals and incidents --------------------------------------------------

    [Fact]
    public void InitiatorCannotFileAReferral()
    {
        var fight = Opened();

        Make.Refused(() => Fights.CheckReport(fight.State!, fight.Origin, Filed(ReportKind.Referral)), RefusalKind.FailedPrecondition, Rules.OneVoice);
    }

    [Fact]
    public void ReportByANetworkWithNoPartInTheFightIsRefused()
    {
        var fight = Opened();
        Committed(fight);

        Make.Refused(() => Fights.CheckReport(fight.State!, Make.NodeId(), Filed(ReportKind.Referral)), RefusalKind.PermissionDenied, Rules.OneVoice);
    }

    [Theory]
    [InlineData(ReportKind.Unspecified)]
    [InlineData((ReportKind)42)]
    public void ReportOfNoKnownKindIsRefused(ReportKind kind)
    {
        var fight = Opened();
        var network = Committed(fight);

        Make.Invalid(() => Fights.CheckReport(fight.State!, network, Filed(kind)));
    }

    [Fact]
    public void ReportWithoutASummaryIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);

        Make.Invalid(() => Fights.CheckReport(fight.State!, network, Filed(ReportKind.Police, "")));
    }

    [Theory]
    [InlineData(ReportKind.Referral)]
    [InlineData(ReportKind.Police)]
    [InlineData(ReportKind.Lawsuit)]
    [InlineData(ReportKind.Retaliation)]
    [InlineData(ReportKind.SuspectedInfiltrator)]
    [InlineData(ReportKind.Other)]
    public void ParticipantMayFileAReferralOrIncident(ReportKind kind)
    {
        var fight = Opened();
        var network = Committed(fight);
        var before = fight.State!.Clone();

        Fights.CheckReport(fight.State!, network, Filed(kind));

        Assert.Equal(before, fight.State);
    }
}
