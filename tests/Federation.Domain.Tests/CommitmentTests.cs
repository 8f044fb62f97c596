using Federation.Contracts.V1;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>Issue 16 #6: an event proves a commitment only when it records exactly what the network signed.</summary>
public class CommitmentTests
{
    private static readonly string Origin = Make.NodeId();
    private static readonly string Network = Make.NodeId();
    private static readonly string FightId = Identifiers.NewObjectId(Origin);

    private static SubmissionPayload Accept(string hash = "h1") => new()
    {
        SubmissionId = Guid.NewGuid().ToString(),
        ObjectId = FightId,
        SubmitterNode = Network,
        AcceptInvitation = new AcceptInvitation { TermsHash = hash },
    };

    private static EventPayload Recorded(SubmissionPayload s, string? actor = null, string? objectId = null) => new()
    {
        ObjectId = objectId ?? s.ObjectId,
        OriginNode = Origin,
        ActorNode = actor ?? s.SubmitterNode,
        Body = s.KindCase == SubmissionPayload.KindOneofCase.CallOutResponse ? CallOuts.FromSubmission(s) : Fights.FromSubmission(s),
    };

    [Fact]
    public void TheEventTheOriginMakesFromASubmissionMatchesIt()
    {
        var s = Accept();
        Assert.Null(Commitments.Mismatch(Recorded(s), s));
        Assert.True(Commitments.IsCommitment(Recorded(s)));
        Assert.Equal(("accepted the terms", "h1"), (Commitments.What(Recorded(s).Body), Commitments.TermsHashOf(Recorded(s).Body)));
    }

    [Fact]
    public void OtherTermsOrAnotherKindOfActIsAMismatch()
    {
        var signed = Accept("h1");
        var claimed = Recorded(Accept("h2"));
        Assert.Equal("the event does not record what the submission says", Commitments.Mismatch(claimed, signed));
        var reaffirm = new EventPayload(Recorded(signed)) { Body = new EventBody { TermsReaffirmed = new TermsReaffirmed { Network = Network, TermsHash = "h1" } } };
        Assert.Equal("the event does not record what the submission says", Commitments.Mismatch(reaffirm, signed));
    }

    [Fact]
    public void AnotherNetworkOrAnotherObjectIsAMismatch()
    {
        var s = Accept();
        Assert.Contains("another network", Commitments.Mismatch(Recorded(s, actor: Make.NodeId()), s));
        Assert.Contains("another object", Commitments.Mismatch(Recorded(s, objectId: Identifiers.NewObjectId(Origin)), s));
    }

    [Fact]
    public void AParticipantsOnlyActionMatchesInTheFightsParticipantsLog()
    {
        var s = new SubmissionPayload
        {
            ObjectId = FightId,
            SubmitterNode = Network,
            CancelAction = new CancelAction { ActionId = "a1", Reason = "rain" },
        };
        Assert.Null(Commitments.Mismatch(Recorded(s, objectId: Briefings.IdOf(FightId)), s));
        Assert.Equal("cancelled an action", Commitments.What(Recorded(s).Body));
    }

    [Fact]
    public void ASubmissionNoRuleTurnsIntoAnEventIsAMismatch()
    {
        var report = new SubmissionPayload { ObjectId = FightId, SubmitterNode = Network, FileReport = new FileReport { Summary = "x" } };
        var e = new EventPayload { ObjectId = FightId, OriginNode = Origin, ActorNode = Network, Body = new EventBody { StandDownAcknowledged = new StandDownAcknowledged { Network = Network } } };
        Assert.StartsWith("the submission does not make an event", Commitments.Mismatch(e, report));
    }

    [Fact]
    public void TheOriginsOwnEventsAreNotCommitments()
    {
        var own = new EventPayload { OriginNode = Origin, ActorNode = Origin, Body = new EventBody { StandDownAcknowledged = new StandDownAcknowledged { Network = Origin } } };
        var status = new EventPayload { OriginNode = Origin, ActorNode = Network, Body = new EventBody { FightStatusChanged = new FightStatusChanged { To = FightStatus.Won } } };
        Assert.False(Commitments.IsCommitment(own));
        Assert.False(Commitments.IsCommitment(status));
    }

    [Fact]
    public void WhyAPledgeOrAReportBackCarriesNoProof()
    {
        var pledge = new SubmissionPayload { ObjectId = FightId, SubmitterNode = Network, CallOutResponse = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05" } };
        var unshared = new SubmissionPayload { ObjectId = FightId, SubmitterNode = Network, CallOutResponse = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = "We went." } };
        Assert.Equal("pledged", Commitments.What(Recorded(pledge).Body));
        Assert.Contains("before 0.2.0", Commitments.WhyNoProof(Recorded(pledge)));
        Assert.Contains("stay with the issuer", Commitments.WhyNoProof(Recorded(unshared)));
    }
}
