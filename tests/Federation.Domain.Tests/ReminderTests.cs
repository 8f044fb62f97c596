using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Issue 17 #3: who is reminded of what, and from when; each reminder named once by its key.</summary>
public class ReminderTests
{
    private static readonly ReminderTimes Times = new(TimeSpan.FromDays(1), TimeSpan.FromDays(2));
    private static readonly DateTimeOffset Now = new(2030, 6, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Self = Make.NodeId();
    private static readonly string Issuer = Make.NodeId();

    private static CallOutState CallOut(DateTimeOffset? windowEnd = null, ResponseRow? answer = null)
    {
        var c = new CallOutState
        {
            Id = "co-1",
            OriginNode = Issuer,
            Content = new CallOutContent { Title = "Picket Bistro Co", WindowEnd = windowEnd is { } e ? Timestamp.FromDateTimeOffset(e) : null },
        };
        if (answer is not null)
        {
            c.Responses.Add(answer);
        }
        return c;
    }

    private static ResponseRow Pledged(string date) => new() { Network = Self, Latest = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = date, Place = "York" } };

    private static IReadOnlyList<Reminder> Due(DateTimeOffset now, params CallOutState[] callOuts) => Reminders.Due(Self, now, callOuts, [], Times);

    [Fact]
    public void APledgeIsRemindedFromTheDayBeforeAndNotForFreeTextOrAnotherNetworksPledge()
    {
        var pledged = CallOut(answer: Pledged("2030-06-05"));

        Assert.Empty(Due(Now.AddDays(-1), pledged));
        var reminder = Assert.Single(Due(Now, pledged));
        Assert.Equal("pledge:co-1:2030-06-05", reminder.Key);
        Assert.Contains("you pledged to act on 2030-06-05 (York) for Picket Bistro Co", reminder.Summary);
        Assert.Empty(Due(Now.AddDays(2), pledged)); // the day is over
        Assert.Empty(Due(Now, CallOut(answer: Pledged("next Saturday"))));
        Assert.Empty(Due(Now, CallOut(answer: new ResponseRow { Network = Issuer, Latest = Pledged("2030-06-05").Latest })));
    }

    [Fact]
    public void AnUnansweredCallOutIsRemindedAsItsWindowClosesAndAnAnsweredOneIsNot()
    {
        var closing = CallOut(windowEnd: Now.AddHours(6));

        var reminder = Assert.Single(Due(Now, closing));
        Assert.Contains("closes at 2030-06-04 18:00 UTC and your network has not answered", reminder.Summary);
        Assert.Empty(Due(Now, CallOut(windowEnd: Now.AddDays(3))));
        Assert.Empty(Due(Now, CallOut(windowEnd: Now.AddHours(-1))));
        Assert.Empty(Due(Now, CallOut(windowEnd: Now.AddHours(6), answer: new ResponseRow { Network = Self, Latest = new CallOutResponse { Kind = ResponseKind.Decline } })));
    }

    [Fact]
    public void APassedDemandDeadlineRemindsTheInitiatorOnlyWhileTheFightGoesOn()
    {
        var fight = Opened();
        var committed = Committed(fight);
        fight.State!.DemandDeadline = Timestamp.FromDateTimeOffset(Now.AddHours(-1));

        var reminder = Assert.Single(Reminders.Due(fight.Origin, Now, [], [fight.State], Times));
        Assert.StartsWith($"deadline:{fight.ObjectId}:", reminder.Key);
        Assert.Contains("the deadline of the demand in Acme wage theft passed", reminder.Summary);
        Assert.Empty(Reminders.Due(committed, Now, [], [fight.State], Times));
        Assert.Empty(Reminders.Due(fight.Origin, Now.AddHours(-2), [], [fight.State], Times));
    }

    [Fact]
    public void AnUnacknowledgedStandDownRemindsTheNetworkThatOwesItAndTheInitiatorAfterAWhile()
    {
        var fight = Opened();
        var late = Committed(fight);
        var prompt = Committed(fight);
        End(fight);
        fight.Append(AcknowledgeStandDown(prompt), actor: prompt);
        var endedAt = fight.State!.History.Last().At.ToDateTimeOffset();

        Assert.Empty(Reminders.Due(late, endedAt.AddDays(1), [], [fight.State], Times));
        var owed = Assert.Single(Reminders.Due(late, endedAt.AddDays(3), [], [fight.State], Times));
        Assert.Equal(($"stand-down:{fight.ObjectId}", $"solnet fight ack {fight.ObjectId}"), (owed.Key, owed.Act));
        Assert.Empty(Reminders.Due(prompt, endedAt.AddDays(3), [], [fight.State], Times));
        var waiting = Assert.Single(Reminders.Due(fight.Origin, endedAt.AddDays(3), [], [fight.State], Times));
        Assert.Contains("1 network(s) have not acknowledged the stand-down of Acme wage theft", waiting.Summary);
    }

    [Fact]
    public void AParticipantsOnlyActionIsRemindedWithoutItsWords()
    {
        var fight = Opened();
        var network = Committed(fight);
        var id = Guid.NewGuid().ToString();
        var plan = PlanOn(10, "Occupy the lobby");
        fight.Append(Plan(network, id, plan), actor: network);
        var starts = fight.State!.Actions.Single().Plan.StartsAt.ToDateTimeOffset();
        var hidden = fight.State.Clone();
        hidden.Actions[0].Plan.Visibility = ActionVisibility.ParticipantsUntilStart;

        Assert.Contains("\"Occupy the lobby\"", Assert.Single(Reminders.Due(network, starts.AddHours(-2), [], [fight.State], Times)).Summary);
        var told = Assert.Single(Reminders.Due(network, starts.AddHours(-2), [], [hidden], Times));
        Assert.DoesNotContain("lobby", told.Summary);
        Assert.Contains("participants-only action", told.Summary);
        Assert.Empty(Reminders.Due(fight.Origin, starts.AddHours(-2), [], [fight.State], Times));
    }
}
