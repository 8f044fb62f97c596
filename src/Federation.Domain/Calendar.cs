using System.Globalization;
using System.Text;
using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>iCalendar (RFC 5545) export, so delegates can put actions in the calendar they already use.</summary>
public static class Calendar
{
    public sealed record Entry(string Uid, string Summary, string Location, string Description, DateTimeOffset Start, DateTimeOffset? End, bool Cancelled);

    /// <summary>A fight's shared action calendar: every network's actions, cancelled ones marked so.</summary>
    public static string ForFight(FightState fight, DateTimeOffset now) => Write(
        $"-//solnet federation//{fight.Title}//EN",
        fight.Actions.Select(a => new Entry(
            $"{a.ActionId}@solnet",
            a.Plan.What,
            a.Plan.Place,
            $"{fight.Title} — by network {Identifiers.Fingerprint(a.Network)}",
            a.Plan.StartsAt.ToDateTimeOffset(),
            a.Plan.EndsAt?.ToDateTimeOffset(),
            a.Status == ActionStatus.Cancelled)),
        now);

    public static string Write(string productId, IEnumerable<Entry> entries, DateTimeOffset now)
    {
        var s = new StringBuilder();
        void Line(string text) => Fold(s, text);
        Line("BEGIN:VCALENDAR");
        Line("VERSION:2.0");
        Line($"PRODID:{Escape(productId)}");
        Line("CALSCALE:GREGORIAN");
        foreach (var e in entries)
        {
            Line("BEGIN:VEVENT");
            Line($"UID:{Escape(e.Uid)}");
            Line($"DTSTAMP:{Utc(now)}");
            Line($"DTSTART:{Utc(e.Start)}");
            if (e.End is { } end)
            {
                Line($"DTEND:{Utc(end)}");
            }
            Line($"SUMMARY:{Escape(e.Summary)}");
            if (e.Location.Length > 0)
            {
                Line($"LOCATION:{Escape(e.Location)}");
            }
            if (e.Description.Length > 0)
            {
                Line($"DESCRIPTION:{Escape(e.Description)}");
            }
            Line(e.Cancelled ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
            Line("END:VEVENT");
        }
        Line("END:VCALENDAR");
        return s.ToString();
    }

    private static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks.</summary>
    public static string Escape(string text) => text
        .Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace(";", "\\;", StringComparison.Ordinal)
        .Replace(",", "\\,", StringComparison.Ordinal)
        .Replace("\r\n", "\\n", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal)
        .Replace("\r", "\\n", StringComparison.Ordinal);

    /// <summary>Lines longer than 75 octets are folded (RFC 5545 §3.1), never inside a UTF-8 sequence; lines end in CRLF.</summary>
    private static void Fold(StringBuilder s, string line)
    {
        var octets = 0;
        var limit = 75;
        foreach (var rune in line.EnumerateRunes())
        {
            var size = rune.Utf8SequenceLength;
            if (octets + size > limit)
            {
                s.Append("\r\n ");
                octets = 0;
                limit = 74; // the leading space of a continuation counts
            }
            s.Append(rune.ToString());
            octets += size;
        }
        s.Append("\r\n");
    }
}
