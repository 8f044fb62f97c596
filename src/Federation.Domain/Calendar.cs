using System.Globalization;
using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>iCalendar (RFC 5545) export, so delegates can put actions in the calendar they already use.</summary>
public static class Calendar
{
    public sealed record Entry(string Uid, string Summary, string Location, string Description, DateTimeOffset Start, DateTimeOffset? End, bool Cancelled);

    /// <summary>A fight's shared action calendar: every network's actions, cancelled ones marked so.</summary>
    public static string ForFight(FightState fight, DateTimeOffset now) => Write(
        $"-//solnet federation//{fight.Title}//EN",
        // An action whose stored start is not a date is left out rather than failing the whole feed.
        fight.Actions.Where(a => Dates.Read(a.Plan.StartsAt) is not null).Select(a => new Entry(
            $"{a.ActionId}@solnet",
            a.Plan.What,
            a.Plan.Place,
            $"{fight.Title} — by network {Identifiers.Fingerprint(a.Network)}",
            Dates.Read(a.Plan.StartsAt)!.Value,
            Dates.Read(a.Plan.EndsAt),
            a.Status == ActionStatus.Cancelled)),
        now);

    public static string Write(string productId, IEnumerable<Entry> entries, DateTimeOffset now)
    {
        var ics = new IcsWriter()
            .Raw("BEGIN", "VCALENDAR")
            .Raw("VERSION", "2.0")
            .Text("PRODID", productId)
            .Raw("CALSCALE", "GREGORIAN");
        foreach (var e in entries)
        {
            ics.Raw("BEGIN", "VEVENT")
                .Text("UID", e.Uid)
                .Raw("DTSTAMP", Utc(now))
                .Raw("DTSTART", Utc(e.Start));
            if (e.End is { } end)
            {
                ics.Raw("DTEND", Utc(end));
            }
            ics.Text("SUMMARY", e.Summary);
            if (e.Location.Length > 0)
            {
                ics.Text("LOCATION", e.Location);
            }
            if (e.Description.Length > 0)
            {
                ics.Text("DESCRIPTION", e.Description);
            }
            ics.Raw("STATUS", e.Cancelled ? "CANCELLED" : "CONFIRMED").Raw("END", "VEVENT");
        }
        return ics.Raw("END", "VCALENDAR").ToString();
    }

    public static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks.</summary>
    public static string Escape(string text) => IcsWriter.Escape(text);
}
