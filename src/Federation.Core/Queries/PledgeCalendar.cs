using System.Globalization;
using Federation.Contracts.V1;
using Federation.Domain;

namespace Federation.Core.Queries;

/// <summary>
/// Pledged actions as an iCalendar file, one event per pledge, so a delegate can put
/// what the network promised in its shared calendar. The UID is stable per call-out and
/// network, so importing a newer export updates the same events.
/// </summary>
public static class PledgeCalendar
{
    private static readonly TimeSpan DefaultLength = TimeSpan.FromHours(2);

    public static CalendarExport Build(IEnumerable<CallOutState> callOuts, string self, bool allNetworks, Func<string, string> networkName, DateTimeOffset now)
    {
        var ics = new IcsWriter()
            .Raw("BEGIN", "VCALENDAR")
            .Raw("VERSION", "2.0")
            .Raw("PRODID", "-//solnet//federation//EN")
            .Raw("CALSCALE", "GREGORIAN");
        var export = new CalendarExport();
        foreach (var c in callOuts.OrderBy(c => c.Id, StringComparer.Ordinal))
        {
            foreach (var row in c.Responses.Where(r => r.Latest.Kind == ResponseKind.Pledge && (allNetworks || r.Network == self)))
            {
                if (When(row.Latest.PlannedDate, c.Content) is not { } slot)
                {
                    export.Skipped.Add($"{c.Id} ({networkName(row.Network)}): the planned date '{row.Latest.PlannedDate}' is not a date (use 2026-12-05 or 2026-12-05T17:00Z) and the call-out has no time window.");
                    continue;
                }
                ics.Raw("BEGIN", "VEVENT")
                    .Raw("UID", $"{c.Id}.{row.Network}@solnet")
                    .Raw("DTSTAMP", Utc(now))
                    .Raw("SEQUENCE", c.LastSequence.ToString(CultureInfo.InvariantCulture));
                if (slot.Day is { } day)
                {
                    ics.Raw("DTSTART;VALUE=DATE", day.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
                        .Raw("DTEND;VALUE=DATE", day.AddDays(1).ToString("yyyyMMdd", CultureInfo.InvariantCulture));
                }
                else
                {
                    ics.Raw("DTSTART", Utc(slot.Start)).Raw("DTEND", Utc(slot.End));
                }
                ics.Text("SUMMARY", c.Content.Title)
                    .Text("LOCATION", Location(row.Latest, c.Content))
                    .Text("DESCRIPTION", Description(c, networkName(row.Network)))
                    .Raw("STATUS", c.Cancelled ? "CANCELLED" : "CONFIRMED")
                    .Raw("END", "VEVENT");
                export.Events++;
            }
        }
        export.Ics = ics.Raw("END", "VCALENDAR").ToString();
        return export;
    }

    /// <summary>
    /// A plain date (2026-12-05) makes an all-day event; a date and time makes an event of
    /// the call-out's window length (two hours without one); free text falls back to the
    /// call-out's own time window.
    /// </summary>
    private sealed record Slot(DateOnly? Day, DateTimeOffset Start, DateTimeOffset End);

    private static Slot? When(string planned, CallOutContent content)
    {
        var text = planned.Trim();
        var length = content.WindowStart is not null && content.WindowEnd is not null
            && content.WindowEnd.ToDateTimeOffset() > content.WindowStart.ToDateTimeOffset()
            ? content.WindowEnd.ToDateTimeOffset() - content.WindowStart.ToDateTimeOffset()
            : DefaultLength;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return new Slot(day, default, default);
        }
        if (text.Contains('T') && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return new Slot(null, at, at + length);
        }
        if (content.WindowStart is not null)
        {
            var from = content.WindowStart.ToDateTimeOffset();
            return new Slot(null, from, from + length);
        }
        return null;
    }

    private static string Location(CallOutResponse pledge, CallOutContent content) =>
        pledge.Place.Length > 0 ? pledge.Place
        : string.Join("; ", content.Places.Select(p => p.Address.Length > 0 ? $"{p.City}, {p.Address}" : p.City));

    private static string Description(CallOutState c, string network)
    {
        var lines = new List<string>
        {
            $"Pledged by {network}.",
            $"Target: {c.Content.Target?.Name}{(c.Content.Target?.ParentCompany.Length > 0 ? $" ({c.Content.Target.ParentCompany})" : "")}",
            $"Demand: {c.Content.DemandSummary}",
        };
        if (c.Content.TalkingPoints.Length > 0)
        {
            lines.Add($"Talking points: {c.Content.TalkingPoints}");
        }
        if (c.Content.SafetyNotes.Length > 0)
        {
            lines.Add($"Safety and legal notes: {c.Content.SafetyNotes}");
        }
        if (c.Content.TimeZone.Length > 0)
        {
            lines.Add($"Local time zone: {c.Content.TimeZone}");
        }
        lines.Add($"Call-out: {c.Id}");
        return string.Join("\n", lines);
    }

    private static string Utc(DateTimeOffset t) => Federation.Domain.Calendar.Utc(t);
}
