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
}
