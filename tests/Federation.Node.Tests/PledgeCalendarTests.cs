using System.Text;
using Federation.Contracts.V1;
using Federation.Core.Queries;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Tests;

/// <summary>Pledges as iCalendar (RFC 5545): folding, escaping, and which pledges become which events.</summary>
public sealed class PledgeCalendarTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);
    private static readonly string Self = new('a', 32);
    private static readonly string Other = new('b', 32);
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string[] PhysicalLines(string ics) => ics.Split("\r\n")[..^1];

    private static string Unfold(string ics) => ics.Replace("\r\n ", "");

    [Fact]
    public void ALongLineIsFoldedAtSeventyFiveOctets()
    {
        var text = string.Concat(Enumerable.Range(0, 40).Select(i => $"word{i} "));

        var ics = new IcsWriter().Text("DESCRIPTION", text).ToString();

        var lines = PhysicalLines(ics);
        Assert.True(lines.Length > 3);
        Assert.All(lines, l => Assert.True(Encoding.UTF8.GetByteCount(l) <= 75, $"{Encoding.UTF8.GetByteCount(l)} octets: {l}"));
        Assert.Equal(75, Encoding.UTF8.GetByteCount(lines[0]));
        Assert.All(lines.Skip(1), l => Assert.StartsWith(" ", l));
        Assert.Equal("DESCRIPTION:" + text + "\r\n", Unfold(ics));
    }

    [Fact]
    public void FoldingNeverSplitsAMultiByteCharacter()
    {
        // 2-, 3- and 4-byte UTF-8 characters, so fold points fall inside characters unless avoided.
        var text = string.Concat(Enumerable.Repeat("£✊😀", 40));

        var ics = new IcsWriter().Text("SUMMARY", text).ToString();

        foreach (var line in PhysicalLines(ics))
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            Assert.True(bytes.Length <= 75);
            StrictUtf8.GetString(bytes); // throws on a split character
        }
        Assert.Equal("SUMMARY:" + text + "\r\n", Unfold(ics));
    }

    [Fact]
    public void TextEscapesBackslashSemicolonCommaAndLineBreaks()
    {
        var ics = new IcsWriter().Text("LOCATION", "Leeds, 1 High St; back door \\ yard\r\nthen left\nthen right").ToString();

        Assert.Equal("LOCATION:Leeds\\, 1 High St\\; back door \\\\ yard\\nthen left\\nthen right\r\n", ics);
    }

    [Fact]
    public void EveryLineEndsWithCrLf()
    {
        var ics = Build([CallOut(Row(Self, "2026-12-05"))]).Ics;

        Assert.DoesNotContain("\n", ics.Replace("\r\n", ""));
        Assert.EndsWith("END:VCALENDAR\r\n", ics);
        Assert.StartsWith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:", ics);
    }

    private static ResponseRow Row(string network, string date, ResponseKind kind = ResponseKind.Pledge) =>
        new() { Network = network, Latest = new CallOutResponse { Kind = kind, PlannedDate = date, Place = "Leeds, 1 High St" } };

    private static CallOutState CallOut(params ResponseRow[] rows) => CallOutWithWindow(null, null, rows);

    private static CallOutState CallOutWithWindow(DateTimeOffset? start, DateTimeOffset? end, params ResponseRow[] rows) => new()
    {
        Id = Identifiers.NewObjectId(Other),
        OriginNode = Other,
        LastSequence = 4,
        Content = new CallOutContent
        {
            Title = "Picket Bistro Co, Leeds",
            Target = new Target { Name = "Bistro Co", ParentCompany = "Bistro Holdings" },
            DemandSummary = "Pay the stolen wages",
            SafetyNotes = "Stay on the pavement",
            WindowStart = start is { } s ? Timestamp.FromDateTimeOffset(s) : null,
            WindowEnd = end is { } e ? Timestamp.FromDateTimeOffset(e) : null,
        },
        Responses = { rows },
    };

    private static CalendarExport Build(IEnumerable<CallOutState> callOuts, bool all = false) =>
        PledgeCalendar.Build(callOuts, Self, all, id => id == Self ? "alpha" : "beta", Now);

    [Fact]
    public void APledgedDateBecomesAnAllDayEvent()
    {
        var c = CallOut(Row(Self, "2026-12-05"));

        var export = Build([c]);

        Assert.Equal(1u, export.Events);
        var ics = Unfold(export.Ics);
        Assert.Contains("DTSTART;VALUE=DATE:20261205\r\n", ics);
        Assert.Contains("DTEND;VALUE=DATE:20261206\r\n", ics);
        Assert.Contains($"UID:{c.Id}.{Self}@solnet\r\n", ics);
        Assert.Contains("DTSTAMP:20261130T090000Z\r\n", ics);
        Assert.Contains("SUMMARY:Picket Bistro Co\\, Leeds\r\n", ics);
        Assert.Contains("LOCATION:Leeds\\, 1 High St\r\n", ics);
        Assert.Contains("Pledged by alpha.\\nTarget: Bistro Co (Bistro Holdings)\\nDemand: Pay the stolen wages", ics);
        Assert.Contains("STATUS:CONFIRMED\r\n", ics);
    }

    [Fact]
    public void APledgedTimeBecomesAUtcEventAsLongAsTheWindow()
    {
        var start = new DateTimeOffset(2026, 12, 5, 17, 0, 0, TimeSpan.Zero);
        var c = CallOutWithWindow(start, start.AddHours(3), Row(Self, "2026-12-06T18:30:00+01:00"));

        var ics = Unfold(Build([c]).Ics);

        Assert.Contains("DTSTART:20261206T173000Z\r\n", ics);
        Assert.Contains("DTEND:20261206T203000Z\r\n", ics);
    }

    [Fact]
    public void AFreeTextDateFallsBackToTheCallOutsWindow()
    {
        var start = new DateTimeOffset(2026, 12, 5, 17, 0, 0, TimeSpan.Zero);
        var c = CallOutWithWindow(start, start.AddHours(1), Row(Self, "Friday evening"));

        var ics = Unfold(Build([c]).Ics);

        Assert.Contains("DTSTART:20261205T170000Z\r\n", ics);
        Assert.Contains("DTEND:20261205T180000Z\r\n", ics);
    }

    [Fact]
    public void AFreeTextDateWithoutAWindowIsSkippedAndSaysWhy()
    {
        var export = Build([CallOut(Row(Self, "Friday evening"))]);

        Assert.Equal(0u, export.Events);
        Assert.Contains("'Friday evening' is not a date", Assert.Single(export.Skipped));
        Assert.DoesNotContain("BEGIN:VEVENT", export.Ics);
    }

    [Fact]
    public void OnlyThisNetworksCurrentPledgesAreExportedUnlessAllAreAskedFor()
    {
        var c = CallOut(Row(Self, "2026-12-05"), Row(Other, "2026-12-06"), Row(new string('c', 32), "2026-12-09", ResponseKind.Unable));

        Assert.Equal(1u, Build([c]).Events);
        var all = Build([c], all: true);
        Assert.Equal(2u, all.Events);
        Assert.Contains("Pledged by beta.", Unfold(all.Ics));
        Assert.DoesNotContain("20261209", all.Ics);
    }

    [Fact]
    public void APledgeToACancelledCallOutIsMarkedCancelled()
    {
        var c = CallOut(Row(Self, "2026-12-05"));
        c.Closed = c.Cancelled = true;

        Assert.Contains("STATUS:CANCELLED\r\n", Build([c]).Ics);
    }
}
