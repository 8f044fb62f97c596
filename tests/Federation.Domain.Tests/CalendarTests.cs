using System.Text;
using System.Text.RegularExpressions;
using Federation.Contracts.V1;
using Xunit;
using static Federation.Domain.Tests.JointFight;

namespace Federation.Domain.Tests;

/// <summary>iCalendar export (RFC 5545) of a fight's actions.</summary>
public class CalendarTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 5, 8, 30, 15, TimeSpan.Zero);
    private static readonly DateTimeOffset Start = new(2025, 3, 7, 9, 0, 0, TimeSpan.Zero);
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static Calendar.Entry Entry(string summary = "Picket", string location = "", string description = "", bool cancelled = false, string uid = "a@solnet") =>
        new(uid, summary, location, description, Start, Start.AddHours(2), cancelled);

    private static string Write(params Calendar.Entry[] entries) => Calendar.Write("-//test//EN", entries, Now);

    /// <summary>The lines as written, without their CRLF.</summary>
    private static string[] PhysicalLines(string ics)
    {
        Assert.EndsWith("\r\n", ics);
        return ics[..^2].Split("\r\n");
    }

    /// <summary>The content lines after unfolding (RFC 5545 §3.1: remove each CRLF followed by one space).</summary>
    private static string[] Unfolded(string ics) => PhysicalLines(ics.Replace("\r\n ", ""));

    private static void AssertFoldedWithin75Octets(string ics)
    {
        foreach (var line in PhysicalLines(ics))
        {
            // A strict encoder throws on a lone surrogate, i.e. a character cut in two.
            Assert.True(StrictUtf8.GetByteCount(line) <= 75, $"{StrictUtf8.GetByteCount(line)} octets: {line}");
        }
    }

    [Fact]
    public void CalendarWrapsOneVeventPerEntryInOneVcalendar()
    {
        var lines = Unfolded(Write(Entry(uid: "a@solnet"), Entry(uid: "b@solnet")));

        Assert.Equal(new[] { "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "CALSCALE:GREGORIAN" }, lines[..4]);
        Assert.Equal("END:VCALENDAR", lines[^1]);
        Assert.Single(lines, l => l == "BEGIN:VCALENDAR");
        Assert.Single(lines, l => l == "END:VCALENDAR");
        Assert.Equal(2, lines.Count(l => l == "BEGIN:VEVENT"));
        Assert.Equal(2, lines.Count(l => l == "END:VEVENT"));
        Assert.Equal(new[] { "UID:a@solnet", "UID:b@solnet" }, lines.Where(l => l.StartsWith("UID:", StringComparison.Ordinal)));
        // Every VEVENT is closed before the next opens.
        var depth = 0;
        foreach (var l in lines)
        {
            depth += l == "BEGIN:VEVENT" ? 1 : l == "END:VEVENT" ? -1 : 0;
            Assert.InRange(depth, 0, 1);
        }
    }

    [Fact]
    public void CalendarWithNoEntriesHasNoVevent()
    {
        var lines = Unfolded(Write());

        Assert.Equal(new[] { "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "CALSCALE:GREGORIAN", "END:VCALENDAR" }, lines);
    }

    [Fact]
    public void EveryLineEndsInCrlf()
    {
        var ics = Write(Entry(summary: new string('x', 200), description: "Line one\nLine two\r\nLine three"));

        Assert.EndsWith("\r\n", ics);
        for (var i = 0; i < ics.Length; i++)
        {
            if (ics[i] == '\n')
            {
                Assert.True(i > 0 && ics[i - 1] == '\r', $"bare LF at {i}");
            }
            if (ics[i] == '\r')
            {
                Assert.True(i + 1 < ics.Length && ics[i + 1] == '\n', $"bare CR at {i}");
            }
        }
    }

    [Theory]
    [InlineData("a;b", @"a\;b")]
    [InlineData("a,b", @"a\,b")]
    [InlineData(@"a\b", @"a\\b")]
    [InlineData("a\nb", @"a\nb")]
    [InlineData("a\r\nb", @"a\nb")]
    [InlineData("a\rb", @"a\nb")]
    [InlineData(@"a\nb", @"a\\nb")]
    [InlineData(@"\;", @"\\\;")]
    [InlineData("plain text: fine", "plain text: fine")]
    public void TextIsEscaped(string text, string escaped)
    {
        Assert.Equal(escaped, Calendar.Escape(text));
    }

    [Fact]
    public void SummaryLocationAndDescriptionAreEscapedInTheCalendar()
    {
        var lines = Unfolded(Write(Entry(summary: "Picket; noise, and \\ more", location: "1 High St, Leeds", description: "Bring:\nflags; drums")));

        Assert.Contains(@"SUMMARY:Picket\; noise\, and \\ more", lines);
        Assert.Contains(@"LOCATION:1 High St\, Leeds", lines);
        Assert.Contains(@"DESCRIPTION:Bring:\nflags\; drums", lines);
    }

    [Fact]
    public void EmptyLocationAndDescriptionAreLeftOut()
    {
        var lines = Unfolded(Write(Entry(location: "", description: "")));

        Assert.DoesNotContain(lines, l => l.StartsWith("LOCATION", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("DESCRIPTION", StringComparison.Ordinal));
    }

    [Fact]
    public void LineOfExactlySeventyFiveOctetsIsNotFolded()
    {
        var summary = new string('x', 75 - "SUMMARY:".Length);

        var physical = PhysicalLines(Write(Entry(summary: summary)));

        Assert.Contains("SUMMARY:" + summary, physical);
    }

    [Fact]
    public void LineOfSeventySixOctetsIsFolded()
    {
        var summary = new string('x', 76 - "SUMMARY:".Length);

        var physical = PhysicalLines(Write(Entry(summary: summary)));

        var i = Array.IndexOf(physical, "SUMMARY:" + summary[..^1]);
        Assert.True(i >= 0);
        Assert.Equal(" x", physical[i + 1]);
    }

    [Fact]
    public void LongLinesAreFoldedAndUnfoldToTheOriginal()
    {
        var summary = string.Concat(Enumerable.Range(0, 60).Select(i => $"word{i} "));

        var ics = Write(Entry(summary: summary));

        AssertFoldedWithin75Octets(ics);
        Assert.True(PhysicalLines(ics).Count(l => l.StartsWith(' ')) >= 4);
        Assert.Contains("SUMMARY:" + summary, Unfolded(ics));
    }

    [Theory]
    [InlineData("é")]          // 2 octets
    [InlineData("€")]          // 3 octets
    [InlineData("✊")]         // 3 octets
    [InlineData("😀")]         // 4 octets, a surrogate pair in .NET
    [InlineData("a€😀é")]      // mixed widths
    public void FoldingNeverSplitsAMultiByteCharacter(string unit)
    {
        // Shift the text by 0–3 octets so that the fold point lands at every position within a character.
        for (var shift = 0; shift < 4; shift++)
        {
            var summary = new string('x', shift) + string.Concat(Enumerable.Repeat(unit, 120));
            var description = string.Concat(Enumerable.Repeat(unit, 90)) + new string('y', shift);

            var ics = Write(Entry(summary: summary, location: summary, description: description));

            AssertFoldedWithin75Octets(ics);
            var bytes = Encoding.UTF8.GetBytes(ics);
            var start = 0;
            for (var i = 0; i + 1 < bytes.Length; i++)
            {
                if (bytes[i] == '\r' && bytes[i + 1] == '\n')
                {
                    // Each physical line is valid UTF-8 on its own: nothing was cut mid-character.
                    StrictUtf8.GetString(bytes, start, i - start);
                    Assert.True(i - start <= 75);
                    start = i + 2;
                }
            }
            var lines = Unfolded(ics);
            Assert.Contains("SUMMARY:" + summary, lines);
            Assert.Contains("LOCATION:" + summary, lines);
            Assert.Contains("DESCRIPTION:" + description, lines);
        }
    }

    [Fact]
    public void TimesAreWrittenInUtc()
    {
        var start = new DateTimeOffset(2025, 3, 7, 9, 30, 0, TimeSpan.FromHours(1));
        var entry = new Calendar.Entry("a@solnet", "Picket", "", "", start, start.AddMinutes(90), false);
        var now = new DateTimeOffset(2025, 3, 5, 23, 15, 5, TimeSpan.FromHours(-5));

        var lines = Unfolded(Calendar.Write("-//test//EN", [entry], now));

        Assert.Contains("DTSTART:20250307T083000Z", lines);
        Assert.Contains("DTEND:20250307T100000Z", lines);
        Assert.Contains("DTSTAMP:20250306T041505Z", lines);
        foreach (var l in lines.Where(l => l.StartsWith("DT", StringComparison.Ordinal)))
        {
            Assert.Matches(new Regex(@"^DT(START|END|STAMP):\d{8}T\d{6}Z$"), l);
        }
    }

    [Fact]
    public void EntryWithoutAnEndHasNoDtend()
    {
        var entry = new Calendar.Entry("a@solnet", "Picket", "", "", Start, null, false);

        var lines = Unfolded(Calendar.Write("-//test//EN", [entry], Now));

        Assert.Contains("DTSTART:20250307T090000Z", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("DTEND", StringComparison.Ordinal));
    }

    [Fact]
    public void CancelledEntriesAreMarkedCancelledAndOthersConfirmed()
    {
        var lines = Unfolded(Write(Entry(uid: "a@solnet", cancelled: true), Entry(uid: "b@solnet", cancelled: false)));

        Assert.Equal(new[] { "STATUS:CANCELLED", "STATUS:CONFIRMED" }, lines.Where(l => l.StartsWith("STATUS:", StringComparison.Ordinal)));
    }

    // ---- A fight's calendar ------------------------------------------------------------

    /// <summary>The unfolded lines of each VEVENT, keyed by UID.</summary>
    private static Dictionary<string, string[]> Events(string ics)
    {
        var events = new Dictionary<string, string[]>();
        List<string>? current = null;
        foreach (var l in Unfolded(ics))
        {
            if (l == "BEGIN:VEVENT")
            {
                current = [];
            }
            else if (l == "END:VEVENT")
            {
                events.Add(current!.Single(x => x.StartsWith("UID:", StringComparison.Ordinal))[4..], [.. current!]);
                current = null;
            }
            else
            {
                current?.Add(l);
            }
        }
        return events;
    }

    [Fact]
    public void FightCalendarHasEveryNetworksActionsWithCancelledOnesMarked()
    {
        var log = new Log<FightState>(ObjectKind.Fight);
        log.Append(Fights.Open(Fights.Draft(log.ObjectId, log.Origin, "Acme, Leeds; wages \\ now", Make.Target(), Make.CompleteTerms())));
        var network = Committed(log);
        var mine = Planned(log, log.Origin, day: 10);
        var theirs = Planned(log, network, day: 11);
        var cancelled = Planned(log, network, day: 12);
        log.Append(Cancel(network, cancelled, "Rain"), actor: network);
        log.Append(Report(network, theirs), actor: network);

        var ics = Calendar.ForFight(log.State!, Now);

        AssertFoldedWithin75Octets(ics);
        var events = Events(ics);
        Assert.Equal(new[] { mine, theirs, cancelled }.Select(id => id + "@solnet").Order(), events.Keys.Order());
        Assert.Contains("STATUS:CONFIRMED", events[mine + "@solnet"]);
        Assert.Contains("STATUS:CONFIRMED", events[theirs + "@solnet"]);
        Assert.Contains("STATUS:CANCELLED", events[cancelled + "@solnet"]);
        Assert.Contains("DTSTART:20250311T090000Z", events[theirs + "@solnet"]);
        Assert.Contains("DTEND:20250311T110000Z", events[theirs + "@solnet"]);
        Assert.Contains("SUMMARY:Picket the Leeds branch", events[theirs + "@solnet"]);
        Assert.Contains(@"LOCATION:1 High Street\, Leeds", events[theirs + "@solnet"]);
        Assert.Contains($@"DESCRIPTION:Acme\, Leeds\; wages \\ now — by network {Identifiers.Fingerprint(network)}", events[theirs + "@solnet"]);
        Assert.Contains($@"DESCRIPTION:Acme\, Leeds\; wages \\ now — by network {Identifiers.Fingerprint(log.Origin)}", events[mine + "@solnet"]);
        Assert.Contains(@"PRODID:-//solnet federation//Acme\, Leeds\; wages \\ now//EN", Unfolded(ics));
        Assert.All(events.Values, e => Assert.Contains("DTSTAMP:20250305T083015Z", e));
    }

    [Fact]
    public void FightWithoutActionsHasAnEmptyCalendar()
    {
        var fight = Opened();

        var ics = Calendar.ForFight(fight.State!, Now);

        Assert.Empty(Events(ics));
        Assert.Equal("BEGIN:VCALENDAR", Unfolded(ics)[0]);
        Assert.Equal("END:VCALENDAR", Unfolded(ics)[^1]);
    }
}
