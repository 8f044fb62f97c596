using Federation.Contracts.V1;
using Google.Protobuf;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Rule 4: changing the terms re-opens consent.</summary>
public class AmendmentTests
{
    private static EventBody Amended(FightTerms terms, string? hash = null, ByteString? bytes = null, string note = "")
    {
        var frozen = Terms.Freeze(terms);
        return new EventBody
        {
            TermsAmended = new TermsAmended { Terms = bytes ?? frozen.Bytes, TermsHash = hash ?? frozen.Hash, Note = note },
        };
    }

    // ---- Amending ---------------------------------------------------------------

    [Fact]
    public void InitiatorAmendingTheTermsMakesTheNewVersionCurrent()
    {
        var fight = Opened();
        var first = fight.State!.TermsHash;
        var terms = AmendedTerms();
        var body = Fights.Amend(fight.State!, terms, "Add union recognition");

        var state = fight.Append(body);

        Assert.Equal(terms, state.Terms);
        Assert.Equal(body.TermsAmended.Terms, state.TermsBytes);
        Assert.Equal(Terms.Hash(body.TermsAmended.Terms.Span), body.TermsAmended.TermsHash);
        Assert.Equal(body.TermsAmended.TermsHash, state.TermsHash);
        Assert.NotEqual(first, state.TermsHash);
        Assert.Equal(FightStatus.Open, state.Status);
    }

    [Fact]
    public void EveryAmendmentAddsAVersionAndKeepsTheEarlierOnes()
    {
        var fight = Opened();
        var first = fight.State!.TermsHash;
        var second = Amend(fight, AmendedTerms(), "Add union recognition");
        var e = fight.Event(Fights.Amend(fight.State!, Make.CompleteTerms("Pay the withheld wages with interest"), "Add interest"));
        fight.Append(e);

        var versions = fight.State!.Versions;
        Assert.Equal(new[] { first, second, fight.State.TermsHash }, versions.Select(v => v.Hash));
        Assert.Equal(Make.CompleteTerms(), versions[0].Terms);
        Assert.Equal(AmendedTerms(), versions[1].Terms);
        Assert.Equal("Add union recognition", versions[1].Note);
        Assert.Equal(fight.State.Terms, versions[2].Terms);
        Assert.Equal("Add interest", versions[2].Note);
        Assert.Equal(e.OccurredAt, versions[2].At);
    }

    [Fact]
    public void AmendmentByAParticipantIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(Fights.Amend(fight.State!, AmendedTerms(), ""), RefusalKind.PermissionDenied, Rules.TermsFirst, actor: network);
    }

    [Theory]
    [InlineData(FightStatus.Won)]
    [InlineData(FightStatus.Settled)]
    [InlineData(FightStatus.Lost)]
    [InlineData(FightStatus.CalledOff)]
    public void AmendmentAfterTheFightHasEndedIsRefused(FightStatus ending)
    {
        var fight = Opened();
        Committed(fight);
        End(fight, ending);

        fight.Refuse(Fights.Amend(fight.State!, AmendedTerms(), ""), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    [Theory]
    [InlineData("demands")]
    [InlineData("strategy")]
    [InlineData("facts")]
    [InlineData("end conditions")]
    public void AmendingToIncompleteTermsIsRefusedByTheCommand(string missing)
    {
        var fight = Opened();

        var ex = Make.Refused(() => Fights.Amend(fight.State!, Incomplete(missing), ""), RefusalKind.FailedPrecondition, Rules.TermsFirst);

        Assert.Contains(missing == "facts" ? "facts of the conflict" : missing, ex.Message);
    }

    [Theory]
    [InlineData("demands")]
    [InlineData("strategy")]
    [InlineData("facts")]
    [InlineData("end conditions")]
    public void AmendmentEventWithIncompleteTermsIsRefusedByReplicas(string missing)
    {
        var fight = Opened();

        fight.Refuse(Amended(Incomplete(missing)), RefusalKind.FailedPrecondition, Rules.TermsFirst);
    }

    private static FightTerms Incomplete(string missing)
    {
        var terms = AmendedTerms();
        switch (missing)
        {
            case "demands": terms.Demands.Clear(); break;
            case "strategy": terms.Strategy = " "; break;
            case "facts": terms.Facts = ""; break;
            case "end conditions": terms.EndConditions = ""; break;
        }
        return terms;
    }

    [Fact]
    public void AmendmentWithATamperedHashIsRefused()
    {
        var fight = Opened();

        fight.Refuse(Amended(AmendedTerms(), hash: new string('0', 64)), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void AmendmentWhoseBytesDoNotMatchItsHashIsRefused()
    {
        var fight = Opened();
        var claimed = Terms.Freeze(AmendedTerms()).Hash;
        var other = Terms.Freeze(Make.CompleteTerms("Something else entirely")).Bytes;

        fight.Refuse(Amended(AmendedTerms(), hash: claimed, bytes: other), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void AmendmentWithUnreadableTermsIsRefused()
    {
        var fight = Opened();
        var junk = ByteString.CopyFrom(0xFF, 0xFF, 0xFF);

        fight.Refuse(Amended(AmendedTerms(), hash: Terms.Hash(junk.Span), bytes: junk), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void AmendmentToTheCurrentTermsIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);

        var ex = fight.Refuse(Fights.Amend(fight.State!, fight.State!.Terms.Clone(), "No change"), RefusalKind.FailedPrecondition, Rules.TermsFirst);

        Assert.Contains("already the current terms", ex.Message);
        Assert.Equal(ParticipantState.Committed, ParticipantOf(fight, network).State);
    }

    [Fact]
    public void AmendmentNoteWithAControlCharacterIsRefused()
    {
        var fight = Opened();

        fight.Refuse(Amended(AmendedTerms(), note: "note\u001b[2J"), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void AmendmentAsksEveryCommittedNetworkToReaffirm()
    {
        var fight = Opened();
        var first = fight.State!.TermsHash;
        var a = Committed(fight);
        var b = Committed(fight);

        Amend(fight);

        foreach (var network in new[] { a, b })
        {
            var p = ParticipantOf(fight, network);
            Assert.Equal(ParticipantState.AwaitingReaffirmation, p.State);
            Assert.Equal(first, p.TermsHash); // still committed to the version it accepted
        }
    }

    [Fact]
    public void AmendmentMovesOpenInvitationsToTheNewVersion()
    {
        var fight = Opened();
        var invited = Invited(fight);

        var amended = Amend(fight);

        var p = ParticipantOf(fight, invited);
        Assert.Equal(ParticipantState.Invited, p.State);
        Assert.Equal(amended, p.TermsHash);
    }

    [Fact]
    public void AmendmentLeavesNetworksThatDeclinedOrWereReleasedAsTheyWere()
    {
        var fight = Opened();
        var first = fight.State!.TermsHash;
        var declined = Declined(fight);
        var released = Released(fight);

        Amend(fight);

        Assert.Equal(ParticipantState.Declined, ParticipantOf(fight, declined).State);
        Assert.Equal(first, ParticipantOf(fight, declined).TermsHash);
        Assert.Equal(ParticipantState.Released, ParticipantOf(fight, released).State);
        Assert.Equal(first, ParticipantOf(fight, released).TermsHash);
    }

    [Fact]
    public void InvitedNetworkCommitsToTheAmendedVersion()
    {
        var fight = Opened();
        var invited = Invited(fight);
        var amended = Amend(fight);

        fight.Append(Accept(invited, amended), actor: invited);

        Assert.Equal(ParticipantState.Committed, ParticipantOf(fight, invited).State);
        Assert.Equal(amended, ParticipantOf(fight, invited).TermsHash);
    }

    [Fact]
    public void AcceptanceOfTheVersionBeforeTheAmendmentIsRefused()
    {
        var fight = Opened();
        var first = fight.State!.TermsHash;
        var invited = Invited(fight);
        Amend(fight);

        fight.Refuse(Accept(invited, first), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt, actor: invited);
    }

    [Fact]
    public void AmendmentRecordsWhatChanged()
    {
        var fight = Opened();
        var terms = Make.CompleteTerms("Pay the withheld wages with interest");
        terms.Strategy = "A phone blockade of head office.";

        Amend(fight, terms);

        Assert.Equal(new[]
        {
            "- demand: Pay the withheld wages",
            "+ demand: Pay the withheld wages with interest",
            "~ strategy: A phone blockade of head office.",
        }, fight.State!.AmendmentDiff);
    }

    [Fact]
    public void AmendmentDiffDescribesOnlyTheLatestAmendment()
    {
        var fight = Opened();
        Amend(fight, AmendedTerms());
        var terms = AmendedTerms();
        terms.Materials = "";

        Amend(fight, terms);

        Assert.Equal(new[] { "- materials (removed)" }, fight.State!.AmendmentDiff);
    }

    [Fact]
    public void NetworkAskedToReaffirmCannotBeInvitedAgain()
    {
        // Like a committed network, a network asked to reaffirm is in the fight: a fresh
        // invitation would quietly undo its commitment without it being released.
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);

        fight.Refuse(Fights.Invite(fight.State!, network), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt);
    }

    // ---- Reaffirming ------------------------------------------------------------

    [Fact]
    public void ReaffirmingTheCurrentTermsCommitsTheNetworkAgain()
    {
        var fight = Opened();
        var network = Committed(fight);
        var amended = Amend(fight);

        fight.Append(Reaffirm(network, amended), actor: network);

        var p = ParticipantOf(fight, network);
        Assert.Equal(ParticipantState.Committed, p.State);
        Assert.Equal(amended, p.TermsHash);
    }

    [Fact]
    public void ReaffirmSubmissionBecomesAReaffirmationBySubmitter()
    {
        var submitter = Make.NodeId();

        var body = Reaffirm(submitter, "abc123");

        Assert.Equal(EventBody.KindOneofCase.TermsReaffirmed, body.KindCase);
        Assert.Equal(submitter, body.TermsReaffirmed.Network);
        Assert.Equal("abc123", body.TermsReaffirmed.TermsHash);
    }

    [Fact]
    public void ReaffirmationNamingTheVersionBeforeTheAmendmentIsRefusedWithTheCurrentHash()
    {
        var fight = Opened();
        var first = fight.State!.TermsHash;
        var network = Committed(fight);
        var amended = Amend(fight);

        var ex = fight.Refuse(Reaffirm(network, first), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt, actor: network);

        Assert.Contains(amended, ex.Message);
    }

    [Fact]
    public void ReaffirmationOfAnIntermediateVersionAfterASecondAmendmentIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var second = Amend(fight);
        var third = Amend(fight, Make.CompleteTerms("Pay the withheld wages with interest"));

        var ex = fight.Refuse(Reaffirm(network, second), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt, actor: network);

        Assert.Contains(third, ex.Message);
    }

    [Fact]
    public void CommittedNetworkThatWasNotAskedToReaffirmCannotReaffirm()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(Reaffirm(network, fight.State!.TermsHash), RefusalKind.FailedPrecondition, Rules.TermsFirst, actor: network);
    }

    [Fact]
    public void InvitedNetworkCannotReaffirmInsteadOfAccepting()
    {
        var fight = Opened();
        var network = Invited(fight);
        var amended = Amend(fight);

        fight.Refuse(Reaffirm(network, amended), RefusalKind.FailedPrecondition, Rules.TermsFirst, actor: network);
    }

    [Fact]
    public void ReaffirmationOnBehalfOfAnotherNetworkIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var other = Committed(fight);
        var amended = Amend(fight);

        fight.Refuse(Reaffirm(network, amended), RefusalKind.PermissionDenied, Rules.TermsFirst, actor: other);
    }

    [Fact]
    public void InitiatorCannotReaffirmOnAParticipantsBehalf()
    {
        var fight = Opened();
        var network = Committed(fight);
        var amended = Amend(fight);

        fight.Refuse(Reaffirm(network, amended), RefusalKind.PermissionDenied, Rules.TermsFirst);
    }

    [Fact]
    public void ReaffirmationByANetworkWithNoPartInTheFightIsRefused()
    {
        var fight = Opened();
        Committed(fight);
        var amended = Amend(fight);
        var stranger = Make.NodeId();

        fight.Refuse(Reaffirm(stranger, amended), RefusalKind.PermissionDenied, Rules.TermsFirst, actor: stranger);
    }

    [Fact]
    public void ReaffirmationAfterTheFightHasEndedIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var amended = Amend(fight);
        End(fight);

        fight.Refuse(Reaffirm(network, amended), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }

    // ---- Declining an amendment -------------------------------------------------

    [Fact]
    public void DecliningAnAmendmentReleasesTheNetwork()
    {
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);

        fight.Append(DeclineAmendment(network, "We cannot support the new demand"), actor: network);

        var p = ParticipantOf(fight, network);
        Assert.Equal(ParticipantState.Released, p.State);
        Assert.Equal("We cannot support the new demand", p.ReleaseReason);
        Assert.False(p.ReleaseRequested);
    }

    [Fact]
    public void DecliningAnAmendmentClearsAPendingReleaseRequest()
    {
        var fight = Opened();
        var network = Committed(fight);
        fight.Append(RequestRelease(network), actor: network);
        Amend(fight);

        fight.Append(DeclineAmendment(network), actor: network);

        Assert.False(ParticipantOf(fight, network).ReleaseRequested);
        Assert.Equal(ParticipantState.Released, ParticipantOf(fight, network).State);
    }

    [Fact]
    public void CommittedNetworkCannotDeclineAnAmendmentItWasNotAskedAbout()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(DeclineAmendment(network), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void CommittedNetworkThatAlreadyReaffirmedCannotDeclineTheAmendment()
    {
        var fight = Opened();
        var network = Committed(fight);
        var amended = Amend(fight);
        fight.Append(Reaffirm(network, amended), actor: network);

        fight.Refuse(DeclineAmendment(network), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void InvitedNetworkCannotDeclineAnAmendment()
    {
        var fight = Opened();
        var network = Invited(fight);
        Amend(fight);

        fight.Refuse(DeclineAmendment(network), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void DecliningAnAmendmentOnBehalfOfAnotherNetworkIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);

        fight.Refuse(DeclineAmendment(network), RefusalKind.PermissionDenied, Rules.TermsFirst);
    }

    [Fact]
    public void DecliningAnAmendmentAfterTheFightHasEndedIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);
        End(fight);

        fight.Refuse(DeclineAmendment(network), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }

    [Fact]
    public void NetworkThatDeclinedAnAmendmentCannotReaffirmIt()
    {
        var fight = Opened();
        var network = Committed(fight);
        var amended = Amend(fight);
        fight.Append(DeclineAmendment(network), actor: network);

        fight.Refuse(Reaffirm(network, amended), RefusalKind.FailedPrecondition, Rules.TermsFirst, actor: network);
    }

    [Fact]
    public void AmendingToTheSameTermsSerialisedDifferentlyIsRefused()
    {
        var fight = Opened();
        Committed(fight);
        // The same terms with an unknown field appended: other bytes, other hash, same meaning.
        var bytes = fight.State!.Terms.ToByteArray().Concat(new byte[] { 0xF8, 0x06, 0x01 }).ToArray();
        var body = new EventBody
        {
            TermsAmended = new TermsAmended { Terms = ByteString.CopyFrom(bytes), TermsHash = Terms.Hash(bytes) },
        };

        fight.Refuse(body, RefusalKind.FailedPrecondition, Rules.TermsFirst);
    }
}

/// <summary>What a delegate reads before deciding whether to reaffirm.</summary>
public class TermsDiffTests
{
    [Fact]
    public void IdenticalTermsHaveNoDifferences()
    {
        Assert.Empty(Terms.Diff(Make.CompleteTerms(), Make.CompleteTerms()));
    }

    [Fact]
    public void AddedAndRemovedDemandsAreListedRemovalsFirst()
    {
        var before = Make.CompleteTerms();
        var after = Make.CompleteTerms("Pay the withheld wages with interest");
        after.Demands.Add("Recognise the union");

        Assert.Equal(new[]
        {
            "- demand: Pay the withheld wages",
            "+ demand: Pay the withheld wages with interest",
            "+ demand: Recognise the union",
        }, Terms.Diff(before, after));
    }

    [Fact]
    public void ChangedFieldsAreListedWithTheirNewText()
    {
        var before = Make.CompleteTerms();
        var after = Make.CompleteTerms();
        after.Strategy = "New strategy";
        after.Facts = "New facts";
        after.EndConditions = "New end conditions";
        after.Materials = "New materials";

        Assert.Equal(new[]
        {
            "~ strategy: New strategy",
            "~ facts: New facts",
            "~ end conditions: New end conditions",
            "~ materials: New materials",
        }, Terms.Diff(before, after));
    }

    [Fact]
    public void ClearedFieldIsListedAsRemoved()
    {
        var before = Make.CompleteTerms();
        var after = Make.CompleteTerms();
        after.Materials = "";

        Assert.Equal(new[] { "- materials (removed)" }, Terms.Diff(before, after));
    }

    [Fact]
    public void FieldAddedWhereThereWasNoneIsListedAsChanged()
    {
        var before = Make.CompleteTerms();
        before.Materials = "";
        var after = Make.CompleteTerms();

        Assert.Equal(new[] { "~ materials: Leaflet text attached." }, Terms.Diff(before, after));
    }

    [Fact]
    public void ReorderedDemandsAreListedAsReordered()
    {
        var before = Make.CompleteTerms();
        var after = Make.CompleteTerms();
        after.Demands.Clear();
        after.Demands.Add(before.Demands.Reverse());

        Assert.Equal(new[] { "~ demands reordered" }, Terms.Diff(before, after));
    }

    [Fact]
    public void DroppingARepeatedDemandIsListedAsARemovalNotAReordering()
    {
        var before = Make.CompleteTerms();
        before.Demands.Add("Pay the withheld wages");
        var after = Make.CompleteTerms();

        var diff = Terms.Diff(before, after);

        Assert.DoesNotContain("~ demands reordered", diff);
        Assert.Equal(new[] { "- demand: Pay the withheld wages" }, diff);
    }
}
