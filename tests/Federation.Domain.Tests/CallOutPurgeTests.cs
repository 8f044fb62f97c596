using System.Text;
using Federation.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>Issue 15 #10: what a node keeps of a call-out it purges, and when its purge clock starts.</summary>
public class CallOutPurgeTests
{
    // The test log stamps event n at 2025-03-01 12:00 + n minutes.
    private static readonly DateTimeOffset LogStart = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private const string Place = "the yard behind Rosemount depot";
    private const string DeclineReason = "Our steward Ottoline Vasquez-Brannigan is ill";
    private const string Incident = "Sergeant Hollowell took our names";

    private readonly Log<CallOutState> _log = new(ObjectKind.CallOut);
    private readonly string _a = Make.NodeId();
    private readonly string _b = Make.NodeId();
    private readonly string _c = Make.NodeId();
    private readonly string _fightId = Identifiers.NewObjectId(Make.NodeId());

    private static EventBody Respond(string network, CallOutResponse response) =>
        new() { CallOutResponded = new CallOutResponded { Network = network, Response = response } };

    /// <summary>Published (1), pledged (2), declined (3), reported back on twice (4, 5), closed (6).</summary>
    private CallOutState Closed()
    {
        var content = Make.Content();
        content.FightId = _fightId;
        _log.Append(CallOuts.Publish(content, [_a, _b, _c]));
        _log.Append(Respond(_a, new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2025-03-07 at dawn", Place = Place }), actor: _a);
        _log.Append(Respond(_b, new CallOutResponse { Kind = ResponseKind.Decline, Reason = DeclineReason }), actor: _b);
        _log.Append(Respond(_c, new CallOutResponse { Kind = ResponseKind.ReportBack, Report = "Twelve of us", Turnout = 12, ShareWithRecipients = true }), actor: _c);
        _log.Append(Respond(_c, new CallOutResponse
        {
            Kind = ResponseKind.ReportBack, Report = "We leafleted the branch.", Turnout = 6, TargetResponse = "Doors locked",
            Incidents = Incident, ShareWithRecipients = true,
        }), actor: _c);
        return _log.Append(CallOuts.Close(_log.State!, cancelled: false, "Target paid up after Sergeant Hollowell's visit"));
    }

    private static bool Holds(IMessage state, string text) =>
        state.ToByteArray().AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    [Fact]
    public void APurgedCallOutKeepsItsOutcomeAndCountsButNoText()
    {
        var closed = Closed();
        Assert.True(Holds(closed, Place) && Holds(closed, DeclineReason) && Holds(closed, Incident)); // the test's secrets are there to lose

        var purged = CallOutPurge.Purged(closed);

        Assert.True(purged.Purged);
        Assert.Equal((closed.Id, closed.Content.Title, _fightId, true, false), (purged.Id, purged.Content.Title, purged.Content.FightId, purged.Closed, purged.Cancelled));
        Assert.Equal(closed.Recipients, purged.Recipients);
        Assert.Equal(closed.LastSequence, purged.LastSequence);
        Assert.Equal(
            closed.Responses.Select(r => (r.Network, r.Responses, r.Latest.Kind, r.Latest.Turnout)),
            purged.Responses.Select(r => (r.Network, r.Responses, r.Latest.Kind, r.Latest.Turnout)));
        Assert.Equal(new CallOutContent { Title = closed.Content.Title, Target = new Target(), FightId = _fightId, ExpiresAt = closed.Content.ExpiresAt }, purged.Content);
        Assert.Equal("", purged.CloseReason);
        foreach (var secret in new[] { Place, "at dawn", DeclineReason, Incident, "We leafleted", "Doors locked",
                     closed.Content.Target.Name, closed.Content.DemandSummary })
        {
            Assert.False(Holds(purged, secret), $"the purged call-out still holds '{secret}'");
        }
    }

    [Fact]
    public void TheClockStartsWhenTheCallOutClosesAndStopsOnceItIsPurged()
    {
        _log.Append(CallOuts.Publish(Make.Content(), [_a, _b]));
        Assert.Null(CallOutPurge.ClockStart(_log.State!));
        Assert.False(CallOutPurge.IsDue(_log.State!, DateTimeOffset.MaxValue)); // open: never due

        var closed = _log.Append(CallOuts.Close(_log.State!, cancelled: true, "target paid"));

        var closedAt = LogStart.AddMinutes(2);
        Assert.Equal(closedAt, CallOutPurge.ClockStart(closed));
        Assert.False(CallOutPurge.IsDue(closed, closedAt));
        Assert.True(CallOutPurge.IsDue(closed, closedAt.AddSeconds(1)));
        Assert.False(CallOutPurge.IsDue(CallOutPurge.Purged(closed), DateTimeOffset.MaxValue));
    }

    [Fact]
    public void ACallOutClosedBeforeItsCloseTimeWasRecordedCountsFromTheLatestTimeItHolds()
    {
        var legacy = Closed().Clone();
        legacy.ClosedAt = null;

        Assert.Equal(LogStart.AddMinutes(5), CallOutPurge.ClockStart(legacy)); // the last response
    }

    [Fact]
    public void ALateReportBackToAPurgedCallOutKeepsNoTextEither()
    {
        var purged = CallOutPurge.Purged(Closed());

        var after = (CallOutState)EventLog.Apply(purged, _log.Event(
            Respond(_b, new CallOutResponse { Kind = ResponseKind.ReportBack, Report = "Late news", Incidents = Incident, Turnout = 3, ShareWithRecipients = true }),
            actor: _b, sequence: purged.LastSequence + 1));

        var row = after.Responses.Single(r => r.Network == _b);
        Assert.Equal((ResponseKind.ReportBack, 3u, 2u), (row.Latest.Kind, row.Latest.Turnout, row.Responses));
        Assert.True(after.Purged);
        Assert.False(Holds(after, "Late news") || Holds(after, Incident));
    }

    [Fact]
    public void ANetworkThatDeclinesOrIsReleasedRecordsWhenItLeft()
    {
        var fight = Opened();
        var declined = Declined(fight);
        var released = Released(fight);
        var committed = Committed(fight);

        Assert.NotNull(ParticipantOf(fight, declined).LeftAt);
        Assert.NotNull(ParticipantOf(fight, released).LeftAt);
        Assert.True(ParticipantOf(fight, released).LeftAt.ToDateTimeOffset() > ParticipantOf(fight, declined).LeftAt.ToDateTimeOffset());
        Assert.Null(ParticipantOf(fight, committed).LeftAt);
    }
}
