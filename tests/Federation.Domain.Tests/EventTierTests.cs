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
}
