using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>What of a call-out is public on the fediverse (issue 19): one rule, checked field by field.</summary>
public class FediverseCallOutTests
{
    // Every field of CallOutContent, sorted into what may leave and what never does. A new
    // field fails EveryContentFieldIsDecided until someone decides, here and in FediverseCallOuts.
    private static readonly string[] Public =
        ["title", "target", "places", "action_types", "window_start", "window_end", "time_zone", "demand_summary"];
    private static readonly string[] NeverPublic = ["talking_points", "safety_notes", "expires_at", "fight_id"];

    private static CallOutState State(bool closed = false, bool cancelled = false) => new()
    {
        Id = "a.b",
        Closed = closed,
        Cancelled = cancelled,
        CloseReason = "REASON-3f",
        Recipients = { "RECIPIENT-9a" },
        Responses = { new ResponseRow { Network = "RESPONDER-77", Latest = new CallOutResponse { Kind = ResponseKind.Pledge, Place = "PLEDGE-PLACE-1" } } },
        Content = new CallOutContent
        {
            Title = "Picket <Bistro> & Co",
            Target = new Target { Name = "Bistro Co", ParentCompany = "Bistro Holdings" },
            DemandSummary = "Pay the wages",
            Places = { new Place { City = "Leeds", Address = "1 High St" } },
            ActionTypes = { ActionType.Picket, ActionType.CallInDay },
            WindowStart = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 7, 4, 9, 0, 0, TimeSpan.Zero)),
            WindowEnd = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 7, 4, 11, 0, 0, TimeSpan.Zero)),
            TimeZone = "Europe/London",
            TalkingPoints = "TALKING-2b",
            SafetyNotes = "SAFETY-4c",
            ExpiresAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 7, 5, 0, 0, 0, TimeSpan.Zero)),
            FightId = "FIGHT-ID-8d",
        },
    };

    [Fact]
    public void EveryContentFieldIsDecided()
    {
        var fields = CallOutContent.Descriptor.Fields.InFieldNumberOrder().Select(f => f.Name).ToList();
        Assert.Equal(fields.OrderBy(f => f), Public.Concat(NeverPublic).OrderBy(f => f));
    }

    [Fact]
    public void ThePostShowsThePublicFieldsInTheCallOutsZone()
    {
        var html = FediverseCallOuts.Html(FediverseCallOuts.Of(State()), "https://x.example/fediverse/call-outs/b");
        Assert.Contains("Picket &lt;Bistro&gt; &amp; Co", html);
        Assert.Contains("Bistro Co (Bistro Holdings)", html);
        Assert.Contains("Pay the wages", html);
        Assert.Contains("1 High St, Leeds", html);
        Assert.Contains("picket, call-in day", html);
        // 09:00 UTC is 10:00 in London in July.
        Assert.Contains("Sat 4 Jul 2026 10:00 to Sat 4 Jul 2026 12:00 (Europe/London)", html);
        Assert.Contains("href=\"https://x.example/fediverse/call-outs/b\"", html);
    }

    [Fact]
    public void NothingButThePublicFieldsReachesThePost()
    {
        var html = FediverseCallOuts.Html(FediverseCallOuts.Of(State(closed: true)), "https://x.example/n");
        foreach (var secret in new[] { "TALKING-2b", "SAFETY-4c", "FIGHT-ID-8d", "REASON-3f", "RECIPIENT-9a", "RESPONDER-77", "PLEDGE-PLACE-1", "5 Jul" })
        {
            Assert.DoesNotContain(secret, html);
        }
    }

    [Theory]
    [InlineData(false, false, "Picket", null)]
    [InlineData(true, false, "CLOSED: Picket", "closed")]
    [InlineData(true, true, "CANCELLED: Picket", "cancelled")]
    public void ClosingOrCancellingSaysSo(bool closed, bool cancelled, string heading, string? says)
    {
        var p = FediverseCallOuts.Of(State(closed, cancelled));
        var html = FediverseCallOuts.Html(p, "https://x.example/n");
        Assert.StartsWith($"<p><strong>{heading}", html);
        if (says is null)
        {
            Assert.Equal(PublicStatus.Open, p.Status);
            Assert.DoesNotContain("This call-out is", html);
        }
        else
        {
            Assert.Contains($"This call-out {(cancelled ? "has been" : "is")} {says}", html);
        }
    }
}
