using Federation.Contracts.V1;
using Google.Protobuf;
using Xunit;

namespace Federation.Domain.Tests;

public class FightDraftTests
{
    private static readonly string Origin = Make.NodeId();
    private static readonly string FightId = Identifiers.NewObjectId(Origin);

    [Fact]
    public void DraftWithTitleAndTargetIsAccepted()
    {
        var draft = Fights.Draft(FightId, Origin, "Acme wage theft", Make.Target(), Make.CompleteTerms());

        Assert.Equal(FightStatus.Draft, draft.Status);
        Assert.Equal(FightId, draft.Id);
        Assert.Equal(Origin, draft.OriginNode);
        Assert.Equal("Acme wage theft", draft.Title);
        Assert.Equal(Make.Target(), draft.Target);
        Assert.Equal(Make.CompleteTerms(), draft.Terms);
        Assert.True(draft.TermsBytes.IsEmpty);
        Assert.Equal("", draft.TermsHash);
    }

    [Fact]
    public void DraftMayStartWithoutTerms()
    {
        var draft = Fights.Draft(FightId, Origin, "Acme wage theft", Make.Target(), null);

        Assert.NotNull(draft.Terms);
        Assert.NotEmpty(Terms.Missing(draft.Terms));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void DraftWithoutTitleIsRefused(string title)
    {
        Make.Invalid(() => Fights.Draft(FightId, Origin, title, Make.Target(), null));
    }

    [Fact]
    public void DraftWithoutTargetIsRefused()
    {
        Make.Invalid(() => Fights.Draft(FightId, Origin, "Acme wage theft", null, null));
    }

    [Fact]
    public void DraftWithUnnamedTargetIsRefused()
    {
        Make.Invalid(() => Fights.Draft(FightId, Origin, "Acme wage theft", new Target { ParentCompany = "Acme Holdings" }, null));
    }

    [Fact]
    public void DraftTitleWithAControlCharacterIsRefused()
    {
        Make.Invalid(() => Fights.Draft(FightId, Origin, "Acme\u001b]0;pwned\u0007", Make.Target(), null));
    }

    [Fact]
    public void DraftTargetWithAControlCharacterIsRefused()
    {
        Make.Invalid(() => Fights.Draft(FightId, Origin, "Acme wage theft", new Target { Name = "Acme\u0000" }, null));
    }

    [Fact]
    public void OverLongDraftTitleIsRefused()
    {
        Assert.NotNull(Fights.Draft(FightId, Origin, new string('t', Text.ShortMax), Make.Target(), null));
        Make.Invalid(() => Fights.Draft(FightId, Origin, new string('t', Text.ShortMax + 1), Make.Target(), null));
    }

    [Fact]
    public void OverLongTargetParentCompanyIsRefused()
    {
        var target = new Target { Name = "Acme", ParentCompany = new string('p', Text.ShortMax + 1) };

        Make.Invalid(() => Fights.Draft(FightId, Origin, "Acme wage theft", target, null));
    }

    [Fact]
    public void DraftTermsWithAControlCharacterAreRefused()
    {
        var terms = Make.CompleteTerms();
        terms.Facts = "Facts\u0008\u0008\u0008";

        Make.Invalid(() => Fights.Draft(FightId, Origin, "Acme wage theft", Make.Target(), terms));
    }

    [Fact]
    public void DraftTermsCanBeUpdatedWithoutChangingTheOriginal()
    {
        var draft = Fights.Draft(FightId, Origin, "Acme wage theft", Make.Target(), null);
        var before = draft.Clone();

        var updated = Fights.UpdateDraftTerms(draft, Make.CompleteTerms());

        Assert.Equal(Make.CompleteTerms(), updated.Terms);
        Assert.Equal(before, draft);
    }

    [Fact]
    public void DraftTermsUpdateWithAControlCharacterIsRefused()
    {
        var draft = Fights.Draft(FightId, Origin, "Acme wage theft", Make.Target(), null);
        var terms = Make.CompleteTerms();
        terms.EndConditions = "\u001b[2J";

        Make.Invalid(() => Fights.UpdateDraftTerms(draft, terms));
    }

    [Fact]
    public void TermsOfAnOfferedFightCannotBeUpdatedAsADraft()
    {
        var fight = FightTests.OpenedFight();

        Make.Refused(() => Fights.UpdateDraftTerms(fight.State!, Make.CompleteTerms("Something else")),
            RefusalKind.FailedPrecondition, Rules.TermsFirst);
    }
}

public class FightTests
{
    private static readonly FightStatus[] Endings = [FightStatus.Won, FightStatus.Settled, FightStatus.Lost, FightStatus.CalledOff];

    internal static FightState Draft(Log<FightState> log, FightTerms? terms = null) =>
        Fights.Draft(log.ObjectId, log.Origin, "Acme wage theft", Make.Target(), terms ?? Make.CompleteTerms());

    internal static Log<FightState> OpenedFight()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        log.Append(Fights.Open(Draft(log)));
        return log;
    }

    private static string Invited(Log<FightState> fight)
    {
        var network = Make.NodeId();
        fight.Append(Fights.Invite(fight.State!, network));
        return network;
    }

    private static EventBody Accept(string network, string hash) =>
        new() { InvitationAccepted = new InvitationAccepted { Network = network, TermsHash = hash } };

    private static EventBody Decline(string network, string reason = "", string offer = "") =>
        new() { InvitationDeclined = new InvitationDeclined { Network = network, Reason = reason, Offer = offer } };

    private static EventBody Status(FightStatus from, FightStatus to, string note = "") =>
        new() { FightStatusChanged = new FightStatusChanged { From = from, To = to, Note = note } };

    private static EventBody Opened(FightTerms terms, string? hash = null, ByteString? bytes = null)
    {
        var frozen = Terms.Freeze(terms);
        return new EventBody
        {
            FightOpened = new FightOpened
            {
                Title = "Acme wage theft",
                Target = Make.Target(),
                Terms = bytes ?? frozen.Bytes,
                TermsHash = hash ?? frozen.Hash,
            },
        };
    }

    private static Participant Participant(Log<FightState> fight, string network) =>
        Assert.Single(fight.State!.Participants, p => p.Network == network);

    // ---- Opening ----------------------------------------------------------------

    [Fact]
    public void OpeningADraftWithCompleteTermsFreezesThem()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        var draft = Draft(log);

        var body = Fights.Open(draft);
        var fight = log.Append(body);

        Assert.Equal(Terms.Hash(body.FightOpened.Terms.Span), body.FightOpened.TermsHash);
        Assert.Equal(FightStatus.Open, fight.Status);
        Assert.Equal(log.ObjectId, fight.Id);
        Assert.Equal(log.Origin, fight.OriginNode);
        Assert.Equal(draft.Title, fight.Title);
        Assert.Equal(draft.Target, fight.Target);
        Assert.Equal(draft.Terms, fight.Terms);
        Assert.Equal(body.FightOpened.Terms, fight.TermsBytes);
        Assert.Equal(Terms.Freeze(draft.Terms).Hash, fight.TermsHash);
        Assert.Equal(1UL, fight.LastSequence);
        var change = Assert.Single(fight.History);
        Assert.Equal(FightStatus.Draft, change.From);
        Assert.Equal(FightStatus.Open, change.To);
        Assert.NotNull(change.At);
    }

    [Fact]
    public void OpeningWithIncompleteTermsIsRefused()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        var terms = Make.CompleteTerms();
        terms.Facts = "";

        var ex = Make.Refused(() => Fights.Open(Draft(log, terms)), RefusalKind.FailedPrecondition, Rules.TermsFirst);
        Assert.Contains("facts of the conflict", ex.Message);
    }

    [Fact]
    public void OpeningAFightThatIsAlreadyOpenIsRefused()
    {
        var fight = OpenedFight();

        Make.Refused(() => Fights.Open(fight.State!), RefusalKind.FailedPrecondition, Rules.TermsFirst);
    }

    [Fact]
    public void FightOpenedWithIncompleteTermsIsRefusedByReplicas()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        var terms = Make.CompleteTerms();
        terms.Demands.Clear();

        log.Refuse(Opened(terms), RefusalKind.FailedPrecondition, Rules.TermsFirst);
    }

    [Fact]
    public void FightOpenedWithATamperedHashIsRefused()
    {
        var log = new Log<FightState>(ObjectKind.Fight);

        log.Refuse(Opened(Make.CompleteTerms(), hash: Terms.Freeze(Make.CompleteTerms("Something else")).Hash),
            RefusalKind.InvalidArgument, "valid input");
        Assert.Null(log.State);
    }

    [Fact]
    public void FightOpenedWithTamperedTermsBytesIsRefused()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        var honest = Terms.Freeze(Make.CompleteTerms());

        log.Refuse(Opened(Make.CompleteTerms(), hash: honest.Hash, bytes: Make.CompleteTerms("Something else").ToByteString()),
            RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void FightOpenedWithUnreadableTermsIsRefused()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        var garbage = ByteString.CopyFrom(0xFF, 0xFF, 0xFF);

        log.Refuse(Opened(Make.CompleteTerms(), hash: Terms.Hash(garbage.Span), bytes: garbage),
            RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void FightOpenedWithoutATitleIsRefused()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        var body = Opened(Make.CompleteTerms());
        body.FightOpened.Title = "";

        log.Refuse(body, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void FightOpenedOnBehalfOfAnotherNetworkIsRefused()
    {
        var log = new Log<FightState>(ObjectKind.Fight);

        log.Refuse(Opened(Make.CompleteTerms()), RefusalKind.PermissionDenied, Rules.OriginAuthority, actor: Make.NodeId());
    }

    [Fact]
    public void FightCannotBeOpenedTwice()
    {
        var fight = OpenedFight();

        fight.Refuse(Fights.Open(Draft(fight)), RefusalKind.FailedPrecondition, Rules.Sequence);
    }

    [Fact]
    public void EventsBeforeTheFightIsOpenedAreRefused()
    {
        var log = new Log<FightState>(ObjectKind.Fight);

        log.Refuse(Status(FightStatus.Open, FightStatus.Escalating), RefusalKind.FailedPrecondition, Rules.Sequence);
    }

    // ---- Invitations ----------------------------------------------------------

    [Fact]
    public void InvitedNetworkIsInvitedToTheCurrentTerms()
    {
        var fight = OpenedFight();
        var network = Make.NodeId();

        var state = fight.Append(Fights.Invite(fight.State!, network));

        var p = Assert.Single(state.Participants);
        Assert.Equal(network, p.Network);
        Assert.Equal(ParticipantState.Invited, p.State);
        Assert.Equal(state.TermsHash, p.TermsHash);
        Assert.Equal(2UL, state.LastSequence);
    }

    [Fact]
    public void InvitationByANetworkOtherThanTheInitiatorIsRefused()
    {
        var fight = OpenedFight();
        var intruder = Make.NodeId();

        fight.Refuse(Fights.Invite(fight.State!, Make.NodeId()), RefusalKind.PermissionDenied, Rules.OriginAuthority, actor: intruder);
    }

    [Fact]
    public void InvitationToStaleTermsIsRefused()
    {
        var fight = OpenedFight();
        var stale = new EventBody
        {
            FightInvited = new FightInvited { Network = Make.NodeId(), TermsHash = Terms.Freeze(Make.CompleteTerms("Old demand")).Hash },
        };

        fight.Refuse(stale, RefusalKind.FailedPrecondition, Rules.TermsFirst);
    }

    [Fact]
    public void InitiatorCannotInviteItself()
    {
        var fight = OpenedFight();

        fight.Refuse(Fights.Invite(fight.State!, fight.Origin), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void InvitationOfAMalformedNodeIdIsRefused()
    {
        var fight = OpenedFight();

        fight.Refuse(Fights.Invite(fight.State!, "not-a-node"), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void NetworkAlreadyInvitedCannotBeInvitedAgain()
    {
        var fight = OpenedFight();
        var network = Invited(fight);

        fight.Refuse(Fights.Invite(fight.State!, network), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt);
    }

    [Fact]
    public void CommittedNetworkCannotBeInvitedAgain()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        fight.Append(Accept(network, fight.State!.TermsHash), actor: network);

        fight.Refuse(Fights.Invite(fight.State!, network), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt);
    }

    [Fact]
    public void NetworkThatDeclinedMayBeInvitedAgain()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        fight.Append(Decline(network, "Busy this month", "A phone blockade"), actor: network);

        fight.Append(Fights.Invite(fight.State!, network));

        var p = Participant(fight, network);
        Assert.Equal(ParticipantState.Invited, p.State);
        Assert.Equal("", p.Reason);
        Assert.Equal("", p.Offer);
    }

    [Fact]
    public void InvitationAfterTheFightHasEndedIsRefused()
    {
        var fight = OpenedFight();
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Won, "Wages paid"));

        fight.Refuse(Fights.Invite(fight.State!, Make.NodeId()), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    // ---- Acceptance: take it or leave it, in until the end ---------------------

    [Fact]
    public void AcceptanceByTheInvitedNetworkCommitsIt()
    {
        var fight = OpenedFight();
        var network = Invited(fight);

        fight.Append(Accept(network, fight.State!.TermsHash), actor: network);

        var p = Participant(fight, network);
        Assert.Equal(ParticipantState.Committed, p.State);
        Assert.Equal(fight.State!.TermsHash, p.TermsHash);
        Assert.Equal(3UL, fight.State.LastSequence);
    }

    [Fact]
    public void CommitmentToStaleTermsIsRefused()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        var staleHash = Terms.Freeze(Make.CompleteTerms("Old demand")).Hash;

        var ex = fight.Refuse(Accept(network, staleHash), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt, actor: network);

        Assert.Contains(fight.State!.TermsHash, ex.Message);
        Assert.Equal(ParticipantState.Invited, Participant(fight, network).State);
    }

    [Fact]
    public void AcceptanceByANetworkThatWasNotInvitedIsRefused()
    {
        var fight = OpenedFight();
        Invited(fight);
        var stranger = Make.NodeId();

        fight.Refuse(Accept(stranger, fight.State!.TermsHash), RefusalKind.PermissionDenied, Rules.TakeItOrLeaveIt, actor: stranger);
    }

    [Fact]
    public void AcceptanceOnBehalfOfAnotherNetworkIsRefused()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        var other = Make.NodeId();

        fight.Refuse(Accept(network, fight.State!.TermsHash), RefusalKind.PermissionDenied, Rules.TakeItOrLeaveIt, actor: other);
    }

    [Fact]
    public void InitiatorCannotAcceptOnAnInviteesBehalf()
    {
        var fight = OpenedFight();
        var network = Invited(fight);

        fight.Refuse(Accept(network, fight.State!.TermsHash), RefusalKind.PermissionDenied, Rules.TakeItOrLeaveIt);
    }

    [Fact]
    public void CommittedNetworkCannotAcceptAgain()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        fight.Append(Accept(network, fight.State!.TermsHash), actor: network);

        fight.Refuse(Accept(network, fight.State!.TermsHash), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
    }

    [Fact]
    public void NetworkThatDeclinedCannotAcceptWithoutANewInvitation()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        fight.Append(Decline(network), actor: network);

        fight.Refuse(Accept(network, fight.State!.TermsHash), RefusalKind.FailedPrecondition, Rules.TakeItOrLeaveIt, actor: network);
    }

    [Fact]
    public void AcceptanceAfterTheFightHasEndedIsRefused()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.CalledOff, ""));

        fight.Refuse(Accept(network, fight.State!.TermsHash), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }

    // ---- Declining ------------------------------------------------------------

    [Fact]
    public void DeclineRecordsTheReasonAndTheOffer()
    {
        var fight = OpenedFight();
        var network = Invited(fight);

        fight.Append(Decline(network, "Our members are stretched", "One day of leafleting"), actor: network);

        var p = Participant(fight, network);
        Assert.Equal(ParticipantState.Declined, p.State);
        Assert.Equal("Our members are stretched", p.Reason);
        Assert.Equal("One day of leafleting", p.Offer);
    }

    [Fact]
    public void DeclineNeedsNoReason()
    {
        var fight = OpenedFight();
        var network = Invited(fight);

        fight.Append(Decline(network), actor: network);

        Assert.Equal(ParticipantState.Declined, Participant(fight, network).State);
    }

    [Fact]
    public void DeclineAfterCommitmentIsRefused()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        fight.Append(Accept(network, fight.State!.TermsHash), actor: network);

        fight.Refuse(Decline(network, "Changed our minds"), RefusalKind.FailedPrecondition, Rules.InUntilTheEnd, actor: network);
        Assert.Equal(ParticipantState.Committed, Participant(fight, network).State);
    }

    [Fact]
    public void DeclineOnBehalfOfAnotherNetworkIsRefused()
    {
        var fight = OpenedFight();
        var network = Invited(fight);

        fight.Refuse(Decline(network), RefusalKind.PermissionDenied, Rules.TakeItOrLeaveIt);
    }

    [Fact]
    public void DeclineByANetworkThatWasNotInvitedIsRefused()
    {
        var fight = OpenedFight();
        var stranger = Make.NodeId();

        fight.Refuse(Decline(stranger), RefusalKind.PermissionDenied, Rules.TakeItOrLeaveIt, actor: stranger);
    }

    [Fact]
    public void DeclineReasonWithAControlCharacterIsRefused()
    {
        var fight = OpenedFight();
        var network = Invited(fight);

        fight.Refuse(Decline(network, "No\u001b[1A"), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    // ---- Status: shared outcome -----------------------------------------------

    [Fact]
    public void StatusMovesOpenEscalatingPausedEscalatingWon()
    {
        var fight = OpenedFight();
        var path = new[] { FightStatus.Escalating, FightStatus.Paused, FightStatus.Escalating, FightStatus.Won };

        foreach (var to in path)
        {
            fight.Append(Fights.ChangeStatus(fight.State!, to, $"Now {to}"));
            Assert.Equal(to, fight.State!.Status);
        }

        Assert.Equal(
            new[] { FightStatus.Open, FightStatus.Escalating, FightStatus.Paused, FightStatus.Escalating, FightStatus.Won },
            fight.State!.History.Select(h => h.To));
        Assert.Equal(
            new[] { FightStatus.Draft, FightStatus.Open, FightStatus.Escalating, FightStatus.Paused, FightStatus.Escalating },
            fight.State.History.Select(h => h.From));
        Assert.Equal("Now Won", fight.State.History[^1].Note);
    }

    [Theory]
    [InlineData(FightStatus.Won)]
    [InlineData(FightStatus.Settled)]
    [InlineData(FightStatus.Lost)]
    [InlineData(FightStatus.CalledOff)]
    public void OpenFightCanEndDirectly(FightStatus ending)
    {
        var fight = OpenedFight();

        fight.Append(Fights.ChangeStatus(fight.State!, ending, ""));

        Assert.Equal(ending, fight.State!.Status);
        Assert.True(Fights.IsEnded(fight.State.Status));
    }

    [Fact]
    public void PausedFightCanEnd()
    {
        var fight = OpenedFight();
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Escalating, ""));
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Paused, ""));

        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Settled, ""));

        Assert.Equal(FightStatus.Settled, fight.State!.Status);
    }

    [Fact]
    public void OpenFightCannotBePausedBeforeItEscalates()
    {
        var fight = OpenedFight();

        fight.Refuse(Fights.ChangeStatus(fight.State!, FightStatus.Paused, ""), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    [Theory]
    [InlineData(FightStatus.Open)]
    [InlineData(FightStatus.Draft)]
    [InlineData(FightStatus.Unspecified)]
    public void OpenFightCannotMoveBackOrStandStill(FightStatus to)
    {
        var fight = OpenedFight();

        fight.Refuse(Fights.ChangeStatus(fight.State!, to, ""), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    public static TheoryData<FightStatus, FightStatus> EndedThenAnything()
    {
        var data = new TheoryData<FightStatus, FightStatus>();
        foreach (var ending in Endings)
        {
            foreach (var to in System.Enum.GetValues<FightStatus>())
            {
                data.Add(ending, to);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EndedThenAnything))]
    public void NoStatusChangeIsAllowedAfterAnEnding(FightStatus ending, FightStatus to)
    {
        var fight = OpenedFight();
        fight.Append(Fights.ChangeStatus(fight.State!, ending, ""));

        fight.Refuse(Fights.ChangeStatus(fight.State!, to, ""), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    [Fact]
    public void StatusChangeByAParticipantIsRefused()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        fight.Append(Accept(network, fight.State!.TermsHash), actor: network);

        fight.Refuse(Fights.ChangeStatus(fight.State!, FightStatus.Won, "We won!"), RefusalKind.PermissionDenied, Rules.SharedOutcome, actor: network);
        Assert.Equal(FightStatus.Open, fight.State!.Status);
    }

    [Fact]
    public void StatusChangeFromTheWrongStatusIsRefused()
    {
        var fight = OpenedFight();

        fight.Refuse(Status(FightStatus.Escalating, FightStatus.Paused), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    [Fact]
    public void StatusNoteWithAControlCharacterIsRefused()
    {
        var fight = OpenedFight();

        Make.Invalid(() => Fights.ChangeStatus(fight.State!, FightStatus.Escalating, "\u001b[2J"));
        fight.Refuse(Status(FightStatus.Open, FightStatus.Escalating, "\u001b[2J"), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void ChangeStatusCommandStartsFromTheCurrentStatus()
    {
        var fight = OpenedFight();

        var body = Fights.ChangeStatus(fight.State!, FightStatus.Escalating, "Pickets start Monday");

        Assert.Equal(FightStatus.Open, body.FightStatusChanged.From);
        Assert.Equal(FightStatus.Escalating, body.FightStatusChanged.To);
        Assert.Equal("Pickets start Monday", body.FightStatusChanged.Note);
    }

    [Theory]
    [InlineData(FightStatus.Open, FightStatus.Escalating, true)]
    [InlineData(FightStatus.Escalating, FightStatus.Paused, true)]
    [InlineData(FightStatus.Paused, FightStatus.Escalating, true)]
    [InlineData(FightStatus.Escalating, FightStatus.Lost, true)]
    [InlineData(FightStatus.Paused, FightStatus.CalledOff, true)]
    [InlineData(FightStatus.Open, FightStatus.Paused, false)]
    [InlineData(FightStatus.Escalating, FightStatus.Open, false)]
    [InlineData(FightStatus.Paused, FightStatus.Open, false)]
    [InlineData(FightStatus.Draft, FightStatus.Won, false)]
    [InlineData(FightStatus.Won, FightStatus.Escalating, false)]
    [InlineData(FightStatus.Lost, FightStatus.Won, false)]
    [InlineData(FightStatus.Settled, FightStatus.Settled, false)]
    public void CanMoveFollowsTheStatusRules(FightStatus from, FightStatus to, bool allowed)
    {
        Assert.Equal(allowed, Fights.CanMove(from, to));
    }

    [Theory]
    [InlineData(FightStatus.Open, FightStatus.Escalating)]
    [InlineData(FightStatus.Escalating, FightStatus.Won)]
    [InlineData(FightStatus.Paused, FightStatus.Escalating)]
    public void TheStatusControlOffersTheLikeliestNextStatusFirst(FightStatus from, FightStatus first)
    {
        Assert.Equal(first, Fights.NextStatuses(from)[0]);
    }

    [Fact]
    public void PausingIsOfferedLastWhileEscalating()
    {
        Assert.Equal(FightStatus.Paused, Fights.NextStatuses(FightStatus.Escalating)[^1]);
    }

    [Fact]
    public void TheNextStatusesAreExactlyTheMovesTheRulesAllow()
    {
        foreach (var from in Enum.GetValues<FightStatus>())
        {
            var offered = Fights.NextStatuses(from);
            Assert.Equal(offered.Count, offered.Distinct().Count());
            Assert.Equal(
                Enum.GetValues<FightStatus>().Where(to => Fights.CanMove(from, to)).Order(),
                offered.Order());
        }
    }

    // ---- Sequence and replication -------------------------------------------

    [Fact]
    public void EventAfterAGapIsRefused()
    {
        var fight = OpenedFight();

        fight.Refuse(fight.Event(Fights.Invite(fight.State!, Make.NodeId()), sequence: 3), RefusalKind.FailedPrecondition, Rules.Sequence);
    }

    [Fact]
    public void FirstEventMustBeNumberOne()
    {
        var log = new Log<FightState>(ObjectKind.Fight);

        log.Refuse(log.Event(Fights.Open(Draft(log)), sequence: 2), RefusalKind.FailedPrecondition, Rules.Sequence);
    }

    [Fact]
    public void ReplayedEventIsRefused()
    {
        var fight = OpenedFight();
        var invite = fight.Event(Fights.Invite(fight.State!, Make.NodeId()));
        fight.Append(invite);

        fight.Refuse(invite, RefusalKind.FailedPrecondition, Rules.Sequence);
        Assert.Single(fight.State!.Participants);
    }

    [Fact]
    public void ReplayedOpeningIsRefused()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        var opened = log.Event(Fights.Open(Draft(log)));
        log.Append(opened);

        log.Refuse(opened, RefusalKind.FailedPrecondition, Rules.Sequence);
    }

    [Fact]
    public void ApplyingAnEventLeavesThePreviousStateUntouched()
    {
        var fight = OpenedFight();
        var before = fight.State!;
        var copy = before.Clone();

        var after = (FightState)EventLog.Apply(before, fight.Event(Fights.Invite(before, Make.NodeId())));

        Assert.Equal(copy, before);
        Assert.Single(after.Participants);
        Assert.NotSame(before, after);
    }

    [Fact]
    public void ReplicaFoldingTheOriginsBytesReachesTheSameState()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        fight.Append(Accept(network, fight.State!.TermsHash), actor: network);
        fight.Append(Fights.ChangeStatus(fight.State!, FightStatus.Escalating, "Pickets start"));

        var replica = fight.Events.Aggregate((IMessage?)null, (s, bytes) => EventLog.Apply(s, EventPayload.Parser.ParseFrom(bytes)));

        Assert.Equal(fight.State, replica);
    }

    [Fact]
    public void CallOutEventInAFightLogIsRefused()
    {
        var fight = OpenedFight();

        fight.Refuse(new EventBody { CallOutClosed = new CallOutClosed() }, RefusalKind.InvalidArgument, "valid input");
    }

    // ---- Submissions --------------------------------------------------------

    [Fact]
    public void AcceptSubmissionBecomesAnAcceptanceBySubmitter()
    {
        var submitter = Make.NodeId();
        var submission = new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            SubmitterNode = submitter,
            AcceptInvitation = new AcceptInvitation { TermsHash = "abc123" },
        };

        var body = Fights.FromSubmission(submission);

        Assert.Equal(EventBody.KindOneofCase.InvitationAccepted, body.KindCase);
        Assert.Equal(submitter, body.InvitationAccepted.Network);
        Assert.Equal("abc123", body.InvitationAccepted.TermsHash);
    }

    [Fact]
    public void DeclineSubmissionBecomesADeclineBySubmitterWithReasonAndOffer()
    {
        var submitter = Make.NodeId();
        var submission = new SubmissionPayload
        {
            SubmitterNode = submitter,
            DeclineInvitation = new DeclineInvitation { Reason = "Too far", Offer = "A call-in day" },
        };

        var body = Fights.FromSubmission(submission);

        Assert.Equal(EventBody.KindOneofCase.InvitationDeclined, body.KindCase);
        Assert.Equal(submitter, body.InvitationDeclined.Network);
        Assert.Equal("Too far", body.InvitationDeclined.Reason);
        Assert.Equal("A call-in day", body.InvitationDeclined.Offer);
    }

    [Fact]
    public void SubmittedAcceptanceCommitsTheSubmitter()
    {
        var fight = OpenedFight();
        var network = Invited(fight);
        var body = Fights.FromSubmission(new SubmissionPayload
        {
            SubmitterNode = network,
            AcceptInvitation = new AcceptInvitation { TermsHash = fight.State!.TermsHash },
        });

        fight.Append(body, actor: network);

        Assert.Equal(ParticipantState.Committed, Participant(fight, network).State);
    }

    [Fact]
    public void CallOutResponseSubmissionToAFightIsRefused()
    {
        var submission = new SubmissionPayload
        {
            SubmitterNode = Make.NodeId(),
            CallOutResponse = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "Friday" },
        };

        Make.Invalid(() => Fights.FromSubmission(submission));
    }

    [Fact]
    public void EmptySubmissionToAFightIsRefused()
    {
        Make.Invalid(() => Fights.FromSubmission(new SubmissionPayload { SubmitterNode = Make.NodeId() }));
    }
}
