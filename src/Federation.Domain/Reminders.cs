using System.Globalization;
using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Domain;

/// <summary>
/// One reminder to this network's people (issue 17 #3). <see cref="Key"/> names it once and
/// for all (the node records it under that key, so it is sent once, across restarts);
/// <see cref="Summary"/> and <see cref="Act"/> hold only what this network may hold of the
/// object (titles, dates, its own pledge), so any channel may carry them.
/// </summary>
public sealed record Reminder(string Key, string ObjectId, bool IsFight, string Title, string Summary, string Act);

/// <summary>When reminders fall due: how long before a pledged date or a window's end, and how long after an ending.</summary>
public sealed record ReminderTimes(TimeSpan Before, TimeSpan StandDownAfter)
{
    public static readonly ReminderTimes Default = new(TimeSpan.FromDays(1), TimeSpan.FromDays(2));
}

/// <summary>
/// Who is reminded of what, and when (issue 17 #3, adr/0018): a pure decision from the
/// call-outs and fights this node holds, this node's id and the time. Each reminder is due
/// from a moment on and keeps being returned while it applies; the node sends each key once.
/// </summary>
public static class Reminders
{
    public static IReadOnlyList<Reminder> Due(string self, DateTimeOffset now, IEnumerable<CallOutState> callOuts, IEnumerable<FightState> fights, ReminderTimes times)
    {
        var due = new List<Reminder>();
        foreach (var c in callOuts)
        {
            if (c.Closed || c.Cancelled || c.Expired || c.Purged || c.Content is null)
            {
                continue;
            }
            var title = c.Content.Title;
            // A pledge of ours, its day near: the people who pledged are reminded of what they promised.
            var mine = c.Responses.FirstOrDefault(r => r.Network == self)?.Latest;
            if (c.OriginNode != self && mine is { Kind: ResponseKind.Pledge } && PledgedDay(mine.PlannedDate) is { } day
                && now >= day - times.Before && now < day.AddDays(1))
            {
                due.Add(new($"pledge:{c.Id}:{day:yyyy-MM-dd}", c.Id, false, title,
                    $"Reminder: you pledged to act on {day:yyyy-MM-dd}{(mine.Place.Length > 0 ? $" ({mine.Place})" : "")} for {title}. Report back afterwards.",
                    $"solnet callout respond {c.Id} report --report TEXT"));
            }
            // A call-out still waiting for our answer, its window closing.
            if (News.AwaitsAnswer(c, self, now) && c.Content.WindowEnd is { } end && now >= end.ToDateTimeOffset() - times.Before && now < end.ToDateTimeOffset())
            {
                due.Add(new($"window:{c.Id}:{end.Seconds}", c.Id, false, title,
                    $"Reminder: the window of {title} closes at {Show(end)} and your network has not answered. Pledge or decline.",
                    $"solnet callout respond {c.Id} pledge --date DATE or solnet callout respond {c.Id} decline"));
            }
        }
        foreach (var f in fights)
        {
            var ended = Fights.IsEnded(f.Status);
            // Our own planned action in a fight, its start near.
            foreach (var a in f.Actions.Where(a => a.Network == self && a.Status == ActionStatus.Planned && a.Plan?.StartsAt is not null))
            {
                var starts = a.Plan.StartsAt.ToDateTimeOffset();
                if (!ended && now >= starts - times.Before && now < starts)
                {
                    due.Add(new($"action:{f.Id}:{a.ActionId}:{a.Plan.StartsAt.Seconds}", f.Id, true, f.Title,
                        // A participants-only plan's words stay out: a reminder may go by webhook or e-mail (ADR 16).
                        $"Reminder: your {(a.Plan.Visibility == ActionVisibility.Public ? $"action \"{a.Plan.What}\"" : "participants-only action")} in {f.Title} starts at {Show(a.Plan.StartsAt)}. Report back afterwards.",
                        $"solnet fight action report {f.Id} {a.ActionId} --report TEXT"));
                }
            }
            // The demand's deadline has passed while the fight goes on: the initiator decides what next.
            if (f.OriginNode == self && !ended && f.DemandDeadline is { } deadline && now >= deadline.ToDateTimeOffset())
            {
                due.Add(new($"deadline:{f.Id}:{deadline.Seconds}", f.Id, true, f.Title,
                    $"Reminder: the deadline of the demand in {f.Title} passed at {Show(deadline)}. Escalate, or record the target's answer.",
                    $"solnet fight status {f.Id} escalating"));
            }
            if (!ended || EndedAt(f) is not { } endedAt || now < endedAt + times.StandDownAfter)
            {
                continue;
            }
            // A stand-down not acknowledged: the network that owes it, and the initiator waiting for it.
            var me = f.Participants.FirstOrDefault(p => p.Network == self);
            if (f.OriginNode != self && me is { StandDownPending: true })
            {
                due.Add(new($"stand-down:{f.Id}", f.Id, true, f.Title,
                    $"Reminder: {f.Title} has ended and your network has not acknowledged the stand-down.",
                    $"solnet fight ack {f.Id}"));
            }
            var waiting = f.Participants.Count(p => p.StandDownPending);
            if (f.OriginNode == self && waiting > 0)
            {
                due.Add(new($"stand-down-waiting:{f.Id}", f.Id, true, f.Title,
                    $"Reminder: {waiting} network(s) have not acknowledged the stand-down of {f.Title}.",
                    $"solnet fight participants {f.Id}"));
            }
        }
        return due;
    }

    /// <summary>When the fight ended: the last status change to an ending.</summary>
    private static DateTimeOffset? EndedAt(FightState f) =>
        f.History.LastOrDefault(h => Fights.IsEnded(h.To))?.At?.ToDateTimeOffset();

    /// <summary>A pledge's day when it is written as a date (2026-12-05 or a full time); free text has none, and is not reminded of.</summary>
    private static DateTimeOffset? PledgedDay(string planned)
    {
        if (DateOnly.TryParseExact(planned.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }
        return DateTimeOffset.TryParse(planned, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? new DateTimeOffset(at.UtcDateTime.Date, TimeSpan.Zero) : null;
    }

    private static string Show(Timestamp t) => Dates.Show(t, "yyyy-MM-dd HH:mm 'UTC'");
}
