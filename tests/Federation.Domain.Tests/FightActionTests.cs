using Federation.Contracts.V1;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Rule 6: autonomy of action. Each network plans, edits, cancels and reports only its own actions.</summary>
public class FightActionTests
{
    private static EventBody Edit(string op, string network, string actionId) => op switch
    {
        "update" => Update(network, actionId, PlanOn(12, "Noise demo at head office")),
        "cancel" => Cancel(network, actionId),
        "report" => Report(network, actionId),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    // ---- Planning ---------------------------------------------------------------

    [Fact]
    public void PlanSubmissionBecomesAPlanBySubmitter()
    {
        var submitter = Make.NodeId();
        var id = Guid.NewGuid().ToString();

        var body = Plan(submitter, id, PlanOn(10));

        Assert.Equal(EventBody.KindOneofCase.ActionPlanned, body.KindCase);
        Assert.Equal(submitter, body.ActionPlanned.Network);
        Assert.Equal(id, body.ActionPlanned.ActionId);
        Assert.Equal(PlanOn(10), body.ActionPlanned.Plan);
    }

    [Fact]
    public void CommittedNetworkPlansItsOwnAction()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Guid.NewGuid().ToString();

        fight.Append(Plan(network, id, PlanOn(10)), actor: network);

        var action = ActionOf(fight, id);
        Assert.Equal(network, action.Network);
        Assert.Equal(PlanOn(10), action.Plan);
        Assert.Equal(ActionStatus.Planned, action.Status);
    }

    [Fact]
    public void InitiatorPlansItsOwnAction()
    {
        var fight = Opened();
        var id = Guid.NewGuid().ToString();

        fight.Append(new EventBody { ActionPlanned = new ActionPlanned { ActionId = id, Network = fight.Origin, Plan = PlanOn(10) } });

        Assert.Equal(fight.Origin, ActionOf(fight, id).Network);
        Assert.Equal(ActionStatus.Planned, ActionOf(fight, id).Status);
    }

    [Fact]
    public void NetworkAskedToReaffirmMayStillPlanActions()
    {
        var fight = Opened();
        var network = Committed(fight);
        Amend(fight);

        var id = Planned(fight, network);

        Assert.Equal(network, ActionOf(fight, id).Network);
    }

    [Fact]
    public void InvitedNetworkThatHasNotCommittedCannotPlanActions()
    {
        var fight = Opened();
        var network = Invited(fight);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.PermissionDenied, Rules.Autonomy, actor: network);
    }

    [Fact]
    public void NetworkThatDeclinedCannotPlanActions()
    {
        var fight = Opened();
        var network = Declined(fight);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.PermissionDenied, Rules.Autonomy, actor: network);
    }

    [Fact]
    public void NetworkWithNoPartInTheFightCannotPlanActions()
    {
        var fight = Opened();
        var stranger = Make.NodeId();

        fight.Refuse(Plan(stranger, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.PermissionDenied, Rules.Autonomy, actor: stranger);
    }

    [Fact]
    public void NetworkCannotPlanAnActionForAnotherNetwork()
    {
        var fight = Opened();
        var network = Committed(fight);
        var other = Committed(fight);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.PermissionDenied, Rules.Autonomy, actor: other);
    }

    [Fact]
    public void InitiatorCannotAssignAnActionToAParticipant()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.PermissionDenied, Rules.Autonomy);
    }

    [Fact]
    public void ParticipantCannotPlanAnActionInTheInitiatorsName()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(Plan(fight.Origin, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.PermissionDenied, Rules.Autonomy, actor: network);
    }

    [Theory]
    [InlineData(FightStatus.Won)]
    [InlineData(FightStatus.Settled)]
    [InlineData(FightStatus.Lost)]
    [InlineData(FightStatus.CalledOff)]
    public void ActionPlannedAfterTheFightHasEndedIsRefused(FightStatus ending)
    {
        var fight = Opened();
        var network = Committed(fight);
        End(fight, ending);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }

    [Fact]
    public void InitiatorCannotPlanAnActionAfterTheFightHasEnded()
    {
        var fight = Opened();
        End(fight);

        fight.Refuse(Plan(fight.Origin, Guid.NewGuid().ToString(), PlanOn(10)), RefusalKind.FailedPrecondition, Rules.SharedOutcome);
    }

    [Fact]
    public void ActionWithoutAStartTimeIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var plan = PlanOn(10);
        plan.StartsAt = null;

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), plan), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Fact]
    public void ActionThatEndsBeforeItStartsIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var plan = PlanOn(10);
        plan.EndsAt = At(10, 8);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), plan), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Fact]
    public void ActionWithoutAnEndTimeIsAccepted()
    {
        var fight = Opened();
        var network = Committed(fight);
        var plan = PlanOn(10);
        plan.EndsAt = null;
        var id = Guid.NewGuid().ToString();

        fight.Append(Plan(network, id, plan), actor: network);

        Assert.Null(ActionOf(fight, id).Plan.EndsAt);
    }

    [Fact]
    public void ActionWithoutAPlanIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), null), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Fact]
    public void ActionThatDoesNotSayWhatIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), PlanOn(10, "  ")), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Fact]
    public void ActionOfUnknownVisibilityIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var plan = PlanOn(10);
        plan.Visibility = (ActionVisibility)7;

        fight.Refuse(Plan(network, Guid.NewGuid().ToString(), plan), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Theory]
    [InlineData("")]
    [InlineData("picket-1")]
    [InlineData("1234")]
    [InlineData("3F2504E0-4F89-11D3-9A0C-0305E82C3301")]
    [InlineData("{3f2504e0-4f89-11d3-9a0c-0305e82c3301}")]
    [InlineData("3f2504e04f8911d39a0c0305e82c3301")]
    public void ActionIdThatIsNotAUuidIsRefused(string id)
    {
        var fight = Opened();
        var network = Committed(fight);

        fight.Refuse(Plan(network, id, PlanOn(10)), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Fact]
    public void ActionIdAlreadyUsedByTheSameNetworkIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);

        fight.Refuse(Plan(network, id, PlanOn(11)), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Fact]
    public void ActionIdAlreadyUsedByAnotherNetworkIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var other = Committed(fight);
        var id = Planned(fight, network);

        fight.Refuse(Plan(other, id, PlanOn(11)), RefusalKind.InvalidArgument, "valid input", actor: other);
    }

    // ---- Editing, cancelling, reporting one's own ---------------------------------

    [Fact]
    public void NetworkEditsItsOwnAction()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);

        fight.Append(Update(network, id, PlanOn(12, "Noise demo at head office")), actor: network);

        Assert.Equal(PlanOn(12, "Noise demo at head office"), ActionOf(fight, id).Plan);
        Assert.Equal(ActionStatus.Planned, ActionOf(fight, id).Status);
    }

    [Fact]
    public void NetworkCancelsItsOwnActionWithAReason()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);

        fight.Append(Cancel(network, id, "Storm warning"), actor: network);

        Assert.Equal(ActionStatus.Cancelled, ActionOf(fight, id).Status);
        Assert.Equal("Storm warning", ActionOf(fight, id).CancelReason);
    }

    [Fact]
    public void NetworkReportsOnItsOwnAction()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);

        fight.Append(Report(network, id, "Forty people for two hours", 40), actor: network);

        var action = ActionOf(fight, id);
        Assert.Equal(ActionStatus.Reported, action.Status);
        Assert.Equal("Forty people for two hours", action.Report);
        Assert.Equal(40u, action.Turnout);
    }

    [Fact]
    public void InitiatorEditsCancelsAndReportsItsOwnActions()
    {
        var fight = Opened();
        var edited = Planned(fight, fight.Origin);
        var cancelled = Planned(fight, fight.Origin);

        fight.Append(new EventBody { ActionUpdated = new ActionUpdated { ActionId = edited, Network = fight.Origin, Plan = PlanOn(12) } });
        fight.Append(new EventBody { ActionReported = new ActionReported { ActionId = edited, Network = fight.Origin, Report = "Done", Turnout = 9 } });
        fight.Append(new EventBody { ActionCancelled = new ActionCancelled { ActionId = cancelled, Network = fight.Origin } });

        Assert.Equal(PlanOn(12), ActionOf(fight, edited).Plan);
        Assert.Equal(ActionStatus.Reported, ActionOf(fight, edited).Status);
        Assert.Equal(ActionStatus.Cancelled, ActionOf(fight, cancelled).Status);
    }

    [Fact]
    public void ReportWithoutTextIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);

        fight.Refuse(Report(network, id, ""), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Fact]
    public void EditThatMakesTheActionEndBeforeItStartsIsRefused()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);
        var plan = PlanOn(10);
        plan.EndsAt = At(9, 9);

        fight.Refuse(Update(network, id, plan), RefusalKind.InvalidArgument, "valid input", actor: network);
    }

    [Theory]
    [InlineData("update")]
    [InlineData("cancel")]
    [InlineData("report")]
    public void UnknownActionCannotBeTouched(string op)
    {
        var fight = Opened();
        var network = Committed(fight);
        Planned(fight, network);

        fight.Refuse(Edit(op, network, Guid.NewGuid().ToString()), RefusalKind.NotFound, "known object", actor: network);
    }

    // ---- Nobody else's --------------------------------------------------------------

    [Theory]
    [InlineData("update")]
    [InlineData("cancel")]
    [InlineData("report")]
    public void AnotherNetworkCannotTouchANetworksAction(string op)
    {
        var fight = Opened();
        var network = Committed(fight);
        var other = Committed(fight);
        var id = Planned(fight, network);

        fight.Refuse(Edit(op, other, id), RefusalKind.PermissionDenied, Rules.Autonomy, actor: other);
    }

    [Theory]
    [InlineData("update")]
    [InlineData("cancel")]
    [InlineData("report")]
    public void InitiatorCannotTouchAParticipantsAction(string op)
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);

        fight.Refuse(Edit(op, fight.Origin, id), RefusalKind.PermissionDenied, Rules.Autonomy);
    }

    [Theory]
    [InlineData("update")]
    [InlineData("cancel")]
    [InlineData("report")]
    public void InitiatorCannotTouchAParticipantsActionByNamingTheParticipant(string op)
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);

        fight.Refuse(Edit(op, network, id), RefusalKind.PermissionDenied, Rules.Autonomy);
    }

    [Theory]
    [InlineData("update")]
    [InlineData("cancel")]
    [InlineData("report")]
    public void ParticipantCannotTouchTheInitiatorsAction(string op)
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, fight.Origin);

        fight.Refuse(Edit(op, network, id), RefusalKind.PermissionDenied, Rules.Autonomy, actor: network);
    }

    // ---- Once cancelled or reported ----------------------------------------------------

    [Theory]
    [InlineData("update")]
    [InlineData("cancel")]
    [InlineData("report")]
    public void CancelledActionCannotBeTouchedAgain(string op)
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);
        fight.Append(Cancel(network, id), actor: network);

        fight.Refuse(Edit(op, network, id), RefusalKind.FailedPrecondition, Rules.Autonomy, actor: network);
    }

    [Theory]
    [InlineData("update")]
    [InlineData("cancel")]
    [InlineData("report")]
    public void ReportedActionCannotBeTouchedAgain(string op)
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);
        fight.Append(Report(network, id), actor: network);

        fight.Refuse(Edit(op, network, id), RefusalKind.FailedPrecondition, Rules.Autonomy, actor: network);
    }

    // ---- After the end ---------------------------------------------------------------

    [Fact]
    public void ActionMayBeReportedAfterTheFightHasEnded()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);
        End(fight);

        fight.Append(Report(network, id, "We were there to the last day", 25), actor: network);

        Assert.Equal(ActionStatus.Reported, ActionOf(fight, id).Status);
        Assert.Equal(25u, ActionOf(fight, id).Turnout);
    }

    [Fact]
    public void ActionCannotBeEditedAfterTheFightHasEnded()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Planned(fight, network);
        End(fight);

        fight.Refuse(Update(network, id, PlanOn(12)), RefusalKind.FailedPrecondition, Rules.SharedOutcome, actor: network);
    }

    // Issue 15 #2: the shared log reaches invited networks, so a participants-only plan is
    // refused there by every node (origin and replicas); it belongs in the participants-only log.
    [Theory]
    [InlineData(ActionVisibility.ParticipantsUntilStart)]
    [InlineData(ActionVisibility.Unspecified)]
    public void AParticipantsOnlyPlanIsRefusedInTheSharedLog(ActionVisibility visibility)
    {
        var fight = Opened();
        var network = Committed(fight);
        var plan = PlanOn(10);
        plan.Visibility = visibility;

        var refused = fight.Refuse(Plan(network, Guid.NewGuid().ToString(), plan), RefusalKind.InvalidArgument, "valid input", actor: network);

        Assert.Contains("participants-only log", refused.Message);
        Assert.True(FightActions.BelongsToParticipants(Plan(network, Guid.NewGuid().ToString(), plan), null));
    }

    [Fact]
    public void AnActionCannotMoveFromTheSharedLogToParticipantsOnly()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Guid.NewGuid().ToString();
        fight.Append(Plan(network, id, PlanOn(10)), actor: network);
        var secret = PlanOn(11);
        secret.Visibility = ActionVisibility.ParticipantsUntilStart;

        fight.Refuse(Update(network, id, secret), RefusalKind.InvalidArgument, "valid input", actor: network);
    }
}
