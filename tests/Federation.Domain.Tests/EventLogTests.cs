using Google.Protobuf;
using Federation.Contracts.V1;
using Xunit;

namespace Federation.Domain.Tests;

public class EventLogTests
{
    private static Log<FightState> NewFight(out EventPayload opened)
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        opened = log.Event(Fights.Open(FightTests.Draft(log)));
        return log;
    }

    [Fact]
    public void FoldingOntoTheStateItselfGivesWhatFoldingOntoCopiesGives()
    {
        var fight = FightTests.OpenedFight();
        fight.Append(Fights.Invite(fight.State!, Make.NodeId()));
        fight.Append(Fights.RecordCommunication(CommunicationKind.Reply, "The landlord answered."));
        var events = fight.Events.Select(bytes => EventPayload.Parser.ParseFrom(bytes)).ToList();

        IMessage? state = EventLog.ApplyOnto(null, events[0]);
        var first = state;
        foreach (var e in events.Skip(1))
        {
            state = EventLog.ApplyOnto(state, e);
        }

        Assert.Equal(fight.State, state);
        // The replica's batch folds one instance, not a copy per event (issue 20 #2).
        Assert.Same(first, state);
    }

    [Fact]
    public void WellFormedOpeningIsApplied()
    {
        NewFight(out var opened);

        Assert.IsType<FightState>(EventLog.Apply(null, opened));
    }

    [Theory]
    [InlineData("")]
    [InlineData("someone")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    public void EventWithoutAValidActorIsRefused(string actor)
    {
        var log = NewFight(out var opened);
        opened.ActorNode = actor;

        log.Refuse(opened, RefusalKind.InvalidArgument, "valid input");
    }

    [Theory]
    [InlineData("")]
    [InlineData("event-1")]
    public void EventWhoseIdIsNotAUuidIsRefused(string eventId)
    {
        var log = NewFight(out var opened);
        opened.EventId = eventId;

        log.Refuse(opened, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void EventWithoutATimeIsRefused()
    {
        var log = NewFight(out var opened);
        opened.OccurredAt = null;

        log.Refuse(opened, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void EventWithoutABodyIsRefused()
    {
        var log = NewFight(out var opened);
        opened.Body = null;

        log.Refuse(opened, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void EventWithAnEmptyBodyIsRefused()
    {
        var fight = FightTests.OpenedFight();

        fight.Refuse(new EventBody(), RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void EventOfUnknownObjectKindIsRefused()
    {
        var log = NewFight(out var opened);
        opened.ObjectKind = ObjectKind.Unspecified;

        log.Refuse(opened, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void EventWithAMalformedObjectIdIsRefused()
    {
        var log = NewFight(out var opened);
        opened.ObjectId = "fight-1";

        log.Refuse(opened, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void CallOutEventAppliedToAFightStateIsRefused()
    {
        var fight = FightTests.OpenedFight();
        var e = fight.Event(new EventBody { CallOutClosed = new CallOutClosed() });
        e.ObjectKind = ObjectKind.CallOut;

        fight.Refuse(e, RefusalKind.InvalidArgument, "valid input");
    }

    // Issue 15 #19: an impossible date anywhere in an event is refused by the one rule the
    // origin and every replica run, so it is never signed into a shared log nor stored.
    [Theory]
    [InlineData(1_700_000_000L, 2_000_000_000)]
    [InlineData(253_402_300_800L, 0)]
    [InlineData(-62_135_596_801L, 0)]
    [InlineData(1_700_000_000L, -1)]
    public void AnImpossibleDeadlineIsRefused(long seconds, int nanos)
    {
        var fight = FightTests.OpenedFight();
        var deadline = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = seconds, Nanos = nanos };

        var refused = fight.Refuse(Fights.DeliverDemand(deadline, "Handed over"), RefusalKind.InvalidArgument, "valid input");

        Assert.Contains("deadline", refused.Message);
    }

    [Fact]
    public void AnImpossibleDateDeepInsideAnEventIsRefused()
    {
        var log = NewFight(out var opened);
        opened.OccurredAt = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 1_700_000_000, Nanos = 1_000_000_000 };

        log.Refuse(opened, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void AStoredImpossibleDateIsShownNotThrown()
    {
        var bad = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 1_700_000_000, Nanos = 2_000_000_000 };

        Assert.Equal(Dates.Invalid, Dates.Show(bad, "u"));
        Assert.Null(Dates.Read(bad));
    }
}
