using System.Globalization;
using System.Net;
using System.Text;
using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>Whether a public call-out is still asking, or has been closed or cancelled.</summary>
public enum PublicStatus
{
    Open,
    Closed,
    Cancelled,
}

/// <summary>
/// What of a call-out may leave the node for the fediverse (issue 19, ADR 24): the only
/// fields an ActivityPub document or delivery is built from.
/// </summary>
public sealed record PublicCallOut(
    string Id,
    string Title,
    string Target,
    string Demand,
    IReadOnlyList<string> Places,
    DateTimeOffset? WindowStart,
    DateTimeOffset? WindowEnd,
    string TimeZone,
    IReadOnlyList<string> Actions,
    PublicStatus Status);

/// <summary>
/// The rule for what of a call-out is public, written once. A call-out marked public
/// shows its title, target, demand, places and window, actions and a link; never its
/// talking points, safety notes, fight, recipients, responses, close reason or anything
/// local or participants-only (DESIGN.md §6). A new field of <see cref="CallOutContent"/>
/// stays private until it is added here on purpose.
/// </summary>
public static class FediverseCallOuts
{
    public static PublicCallOut Of(CallOutState state)
    {
        var c = state.Content ?? new CallOutContent();
        var target = c.Target is null ? "" : string.IsNullOrEmpty(c.Target.ParentCompany)
            ? c.Target.Name
            : $"{c.Target.Name} ({c.Target.ParentCompany})";
        var places = c.Places.Select(p => string.Join(", ", new[] { p.Address, p.City }.Where(s => s.Length > 0)))
            .Where(s => s.Length > 0).ToList();
        var status = !state.Closed ? PublicStatus.Open : state.Cancelled ? PublicStatus.Cancelled : PublicStatus.Closed;
        return new PublicCallOut(state.Id, c.Title, target, c.DemandSummary, places,
            c.WindowStart?.ToDateTimeOffset(), c.WindowEnd?.ToDateTimeOffset(), c.TimeZone,
            c.ActionTypes.Select(ActionName).ToList(), status);
    }

    /// <summary>A person's word for an action type, as the CLI and dashboard say it.</summary>
    public static string ActionName(ActionType type) => type switch
    {
        ActionType.Picket => "picket",
        ActionType.PhoneEmailBlockade => "phone and e-mail blockade",
        ActionType.Leafleting => "leafleting",
        ActionType.NoiseDemo => "noise demo",
        ActionType.CallInDay => "call-in day",
        ActionType.Online => "online action",
        _ => "action",
    };

    /// <summary>
    /// The post's HTML, as Mastodon shows a Note: paragraphs and a link only (it strips
    /// the rest). Every value is escaped. The window is given in the call-out's own zone
    /// when it names one that exists, else in UTC.
    /// </summary>
    public static string Html(PublicCallOut p, string link)
    {
        var zone = FindZone(p.TimeZone);
        var html = new StringBuilder();
        var heading = p.Status switch
        {
            PublicStatus.Cancelled => "CANCELLED: ",
            PublicStatus.Closed => "CLOSED: ",
            _ => "",
        };
        html.Append("<p><strong>").Append(E(heading + p.Title)).Append("</strong></p>");
        if (p.Status != PublicStatus.Open)
        {
            html.Append("<p>").Append(p.Status == PublicStatus.Cancelled
                ? "This call-out has been cancelled: please do not act on it."
                : "This call-out is closed: thank you to everyone who acted.").Append("</p>");
        }
        Line(html, "Target", p.Target);
        Line(html, "Demand", p.Demand);
        Line(html, "Where", string.Join("; ", p.Places));
        Line(html, "When", Window(p.WindowStart, p.WindowEnd, zone));
        Line(html, "Action", string.Join(", ", p.Actions));
        html.Append("<p><a href=\"").Append(E(link)).Append("\">").Append(E(link)).Append("</a></p>");
        return html.ToString();
    }

    private static void Line(StringBuilder html, string label, string value)
    {
        if (value.Length > 0)
        {
            html.Append("<p>").Append(label).Append(": ").Append(E(value)).Append("</p>");
        }
    }

    private static string Window(DateTimeOffset? start, DateTimeOffset? end, TimeZoneInfo zone)
    {
        string Say(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, zone).ToString("ddd d MMM yyyy HH:mm", CultureInfo.InvariantCulture);
        var name = zone == TimeZoneInfo.Utc ? "UTC" : zone.Id;
        return (start, end) switch
        {
            ({ } s, { } e) => $"{Say(s)} to {Say(e)} ({name})",
            ({ } s, null) => $"from {Say(s)} ({name})",
            (null, { } e) => $"until {Say(e)} ({name})",
            _ => "",
        };
    }

    private static TimeZoneInfo FindZone(string id)
    {
        if (id.Length == 0)
        {
            return TimeZoneInfo.Utc;
        }
        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
