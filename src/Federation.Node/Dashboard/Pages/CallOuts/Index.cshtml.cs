using System.Globalization;
using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Federation.Node.Dashboard.Pages.CallOuts;

/// <summary>
/// The call-outs we sent, and the inbox of those we received, narrowed by the same
/// query as `solnet inbox` (CallOutCommands.Inbox), soonest time window first.
/// </summary>
public sealed class IndexModel(DashboardContext context, CallOutCommands callOuts, FightCommands fights,
    IOptions<Federation.Core.NodeOptions> options) : DashboardPage(context)
{
    /// <summary>The inbox filters, from the query string so a filtered list can be bookmarked.</summary>
    public sealed class Filter
    {
        public string? State { get; set; }
        public string? City { get; set; }
        public string? Region { get; set; }
        public List<ActionType> Actions { get; set; } = [];
        public string? From { get; set; }
        public string? Until { get; set; }
        public string? Fight { get; set; }
        public bool Issued { get; set; }

        public bool Any => State is "open" or "closed" || !string.IsNullOrWhiteSpace(City) || !string.IsNullOrWhiteSpace(Region)
            || Actions.Count > 0 || !string.IsNullOrWhiteSpace(From) || !string.IsNullOrWhiteSpace(Until) || !string.IsNullOrWhiteSpace(Fight) || Issued;
    }

    [BindProperty(SupportsGet = true, Name = "f")]
    public Filter F { get; set; } = new();

    public IReadOnlyList<CallOutState> Sent { get; private set; } = [];
    public IReadOnlyList<CallOutState> Received { get; private set; } = [];
    public IReadOnlyList<FightState> Fights { get; private set; } = [];

    protected override void Load()
    {
        var all = callOuts.List().OrderByDescending(c => c.PublishedAt).ToList();
        Sent = all.Where(c => c.OriginNode == Node.Me).ToList();
        Fights = fights.List().Where(f => f.Status != FightStatus.Draft).ToList();
        Received = Read("QueryInbox", () => callOuts.Inbox(Query(), DateTimeOffset.UtcNow));
    }

    private InboxQuery Query()
    {
        var q = new InboxQuery
        {
            State = F.State switch
            {
                "open" => InboxStateFilter.Open,
                "closed" => InboxStateFilter.Closed,
                _ => InboxStateFilter.Any,
            },
            City = F.City?.Trim() ?? "",
            Region = F.Region?.Trim() ?? "",
            // A date filter covers whole days in the node's time zone: from the start of the first to the end of the last.
            WindowFrom = Day(F.From, "from", 0),
            WindowTo = Day(F.Until, "until", 1),
            FightId = F.Fight?.Trim() ?? "",
            IncludeIssued = F.Issued,
        };
        q.ActionTypes.AddRange(F.Actions);
        return q;
    }

    private Timestamp? Day(string? value, string field, int endOf)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (!DateTime.TryParseExact(value.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            throw RuleViolation.Invalid($"{field}: '{value}' is not a date (for example 2026-12-05).");
        }
        // The day as people in the node's city live it (issue 17 #5): midnight there, not in UTC.
        var at = Dates.FromWallClock(day.AddDays(endOf), Node.Zone, field).ToDateTimeOffset();
        return Timestamp.FromDateTimeOffset(endOf == 0 ? at : at.AddTicks(-TimeSpan.TicksPerMillisecond));
    }

    public string OurAnswer(CallOutState c) =>
        c.OriginNode == Node.Me ? "we sent it"
        : c.Responses.FirstOrDefault(r => r.Network == Node.Me) is { } r ? Describe(r.Latest) : "not answered";

    /// <summary>This network's pledges, or every network's this node holds, as an iCalendar file.</summary>
    public IActionResult OnGetCalendar(bool all)
    {
        try
        {
            var export = Read("ExportPledges", () => callOuts.ExportPledges(all, options.Value.Name, DateTimeOffset.UtcNow));
            return File(System.Text.Encoding.UTF8.GetBytes(export.Ics), "text/calendar; charset=utf-8", all ? "pledges-all.ics" : "pledges.ics");
        }
        catch (RuleViolation v)
        {
            Refuse(v.Message);
            return Show();
        }
    }
}
