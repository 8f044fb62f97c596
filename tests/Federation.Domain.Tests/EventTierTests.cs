using Federation.Contracts.V1;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>Issue 15 #2: every kind of event has a confidentiality tier, so none is routed to a wider audience by default.</summary>
public class EventTierTests
{
    /// <summary>Every case of the event oneof, read from the protobuf descriptor so a newly added one is included.</summary>
    public static TheoryData<string> EveryEventKind()
    {
        var data = new TheoryData<string>();
        foreach (var field in EventBody.Descriptor.Oneofs.Single(o => o.Name == "kind").Fields)
        {
            data.Add(field.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryEventKind))]
    public void EveryKindOfEventHasATier(string field)
    {
        var number = EventBody.Descriptor.FindFieldByName(field).FieldNumber;
        Assert.True(EventTiers.Table.ContainsKey((EventBody.KindOneofCase)number), $"The event {field} has no tier in EventTiers.Table.");
    }

    [Fact]
    public void TheDescriptorHasAsManyKindsAsTheTable()
    {
        Assert.Equal(EventBody.Descriptor.Oneofs.Single(o => o.Name == "kind").Fields.Count, EventTiers.Table.Count);
    }

    [Fact]
    public void AKindWithoutATierIsRefusedNotTakenAsPublic()
    {
        var ex = Assert.Throws<RuleViolation>(() => EventTiers.Of(EventBody.KindOneofCase.None));
        Assert.Contains("no confidentiality tier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BriefingsAndParticipantsOnlyPlansGoToTheParticipantsLogAndPublicPlansDoNot()
    {
        Assert.True(FightActions.BelongsToParticipants(new EventBody { BriefingPosted = new BriefingPosted { Text = "x" } }, null));
        Assert.True(FightActions.BelongsToParticipants(new EventBody { ActionPlanned = new ActionPlanned { Plan = new ActionPlan { Visibility = ActionVisibility.ParticipantsUntilStart } } }, null));
        Assert.False(FightActions.BelongsToParticipants(new EventBody { ActionPlanned = new ActionPlanned { Plan = new ActionPlan { Visibility = ActionVisibility.Public } } }, null));
        Assert.False(FightActions.BelongsToParticipants(new EventBody { DemandDelivered = new DemandDelivered() }, null));
    }

    [Fact]
    public void OnlyTheParticipantsOnlyLogRestsSealed()
    {
        Assert.True(EventTiers.SealedAtRest(ObjectKind.Briefings));
        Assert.False(EventTiers.SealedAtRest(ObjectKind.Fight));
        Assert.False(EventTiers.SealedAtRest(ObjectKind.CallOut));
    }

    /// <summary>Issue 24: a submission waits sealed in its sender's outbox when it is for the origin alone or the committed networks alone.</summary>
    [Fact]
    public void ReferralsUnsharedReportBacksAndParticipantsOnlyActionsWaitSealedAndTheRestInClear()
    {
        var participantsOnly = new ActionPlan { What = "x", Visibility = ActionVisibility.ParticipantsUntilStart };
        var open = new ActionPlan { What = "x", Visibility = ActionVisibility.Public };
        var participants = new BriefingsState { Actions = { new FightAction { ActionId = "sealed-one" } } };
        Assert.True(EventTiers.SealedAtRest(new SubmissionPayload { FileReport = new FileReport { Kind = ReportKind.Referral, Summary = "x" } }, null));
        Assert.True(EventTiers.SealedAtRest(new SubmissionPayload { CallOutResponse = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = "x" } }, null));
        Assert.False(EventTiers.SealedAtRest(new SubmissionPayload { CallOutResponse = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = "x", ShareWithRecipients = true } }, null));
        Assert.False(EventTiers.SealedAtRest(new SubmissionPayload { CallOutResponse = new CallOutResponse { Kind = ResponseKind.Pledge } }, null));
        Assert.True(EventTiers.SealedAtRest(new SubmissionPayload { PlanAction = new PlanAction { ActionId = "a", Plan = participantsOnly } }, null));
        Assert.False(EventTiers.SealedAtRest(new SubmissionPayload { PlanAction = new PlanAction { ActionId = "a", Plan = open } }, null));
        // After the plan, an action follows where its plan is: the sender's copy of the participants-only log says.
        Assert.True(EventTiers.SealedAtRest(new SubmissionPayload { ReportAction = new ReportAction { ActionId = "sealed-one", Report = "x" } }, participants));
        Assert.False(EventTiers.SealedAtRest(new SubmissionPayload { ReportAction = new ReportAction { ActionId = "public-one", Report = "x" } }, participants));
        Assert.False(EventTiers.SealedAtRest(new SubmissionPayload { AcceptInvitation = new AcceptInvitation { TermsHash = "h" } }, null));
    }

    /// <summary>Issue 24, adr/0025: a locked node folds what arrives into the skeleton, and gets the skeleton of what the full state would become.</summary>
    [Fact]
    public void ASkeletonHoldsNoTextAndFoldsAsTheFullStateDoes()
    {
        var origin = Make.NodeId();
        var partner = Make.NodeId();
        var fightId = Identifiers.NewObjectId(origin);
        var logId = Briefings.IdOf(fightId);
        var actionId = Guid.NewGuid().ToString();
        var starts = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(2));
        ulong seq = 0;
        EventPayload Event(string actor, EventBody body) => new()
        {
            EventId = Guid.NewGuid().ToString(), ObjectId = logId, ObjectKind = ObjectKind.Briefings, Sequence = ++seq,
            OriginNode = origin, ActorNode = actor, OccurredAt = starts, Body = body,
        };
        var opened = new BriefingsOpened { FightId = fightId, Members = { partner } };
        var history = new[]
        {
            Event(origin, new EventBody { BriefingsOpened = opened }),
            Event(origin, new EventBody { BriefingPosted = new BriefingPosted { Text = "The safe house is the launderette" } }),
            Event(partner, new EventBody { ActionPlanned = new ActionPlanned { ActionId = actionId, Network = partner, Plan = new ActionPlan
            {
                What = "Unlock the side door at 05:40", Place = "Gate 3", StartsAt = starts, Visibility = ActionVisibility.ParticipantsUntilStart,
            } } }),
        };
        var full = (BriefingsState)history.Aggregate((Google.Protobuf.IMessage?)null, EventLog.Apply)!;
        var skeleton = Briefings.Skeleton(full);

        Assert.Equal((full.Members, full.LastSequence, 1), (skeleton.Members, skeleton.LastSequence, skeleton.Briefings.Count));
        Assert.Equal("", skeleton.Briefings.Single().Text);
        var action = skeleton.Actions.Single();
        Assert.Equal((actionId, partner, ActionStatus.Planned, ActionVisibility.ParticipantsUntilStart, "", "", (Google.Protobuf.WellKnownTypes.Timestamp?)null),
            (action.ActionId, action.Network, action.Status, action.Plan.Visibility, action.Plan.What, action.Plan.Place, (Google.Protobuf.WellKnownTypes.Timestamp?)action.Plan.StartsAt));

        var report = Event(partner, new EventBody { ActionReported = new ActionReported { ActionId = actionId, Network = partner, Report = "Forty came", Turnout = 40 } });
        Assert.Equal(Briefings.Skeleton((BriefingsState)EventLog.Apply(full.Clone(), report)), Briefings.Skeleton((BriefingsState)EventLog.Apply(skeleton.Clone(), report)));
        // What the full state refuses, the skeleton refuses too: the same action planned twice.
        var again = Event(partner, history[2].Body);
        Assert.Throws<RuleViolation>(() => EventLog.Apply(full.Clone(), again));
        Assert.Throws<RuleViolation>(() => EventLog.Apply(skeleton.Clone(), again));
    }
}
