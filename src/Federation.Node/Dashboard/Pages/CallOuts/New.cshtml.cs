using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Application;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages.CallOuts;

/// <summary>Compose a call-out; the domain checks the content and the recipients.</summary>
public sealed class NewModel(DashboardContext context, CallOutCommands callOuts, FightCommands fights) : DashboardPage(context)
{
    public sealed class Input
    {
        public string? Title { get; set; }
        public string? Target { get; set; }
        public string? ParentCompany { get; set; }
        public string? Demand { get; set; }
        public string? Places { get; set; }
        public List<ActionType> Actions { get; set; } = [];
        public string? WindowStart { get; set; }
        public string? WindowEnd { get; set; }
        public string? TimeZone { get; set; }
        public string? TalkingPoints { get; set; }
        public string? SafetyNotes { get; set; }
        public string? ExpiresAt { get; set; }
        public string? FightId { get; set; }
        public List<string> Recipients { get; set; } = [];
    }

    [BindProperty]
    public Input Form { get; set; } = new();

    public IReadOnlyList<FightState> OurFights { get; private set; } = [];

    public static readonly ActionType[] ActionTypes = Enum.GetValues<ActionType>().Where(a => a != ActionType.Unspecified).ToArray();

    protected override void Load()
    {
        OurFights = fights.List().Where(f => f.OriginNode == Node.Me && f.Status != FightStatus.Draft && !Federation.Domain.Fights.IsEnded(f.Status)).ToList();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        CallOutState? published = null;
        var result = await RunAsync("PublishCallOut", async () =>
        {
            var content = new CallOutContent
            {
                Title = Form.Title ?? "",
                Target = new Target { Name = Form.Target ?? "", ParentCompany = Form.ParentCompany ?? "" },
                DemandSummary = Form.Demand ?? "",
                WindowStart = ParseUtc(Form.WindowStart, "window start"),
                WindowEnd = ParseUtc(Form.WindowEnd, "window end"),
                TimeZone = Form.TimeZone ?? "",
                TalkingPoints = Form.TalkingPoints ?? "",
                SafetyNotes = Form.SafetyNotes ?? "",
                ExpiresAt = ParseUtc(Form.ExpiresAt, "expires"),
                FightId = Form.FightId ?? "",
            };
            content.ActionTypes.AddRange(Form.Actions);
            // One place a line: "City | address" (the address is optional).
            content.Places.AddRange(Lines(Form.Places).Select(line =>
            {
                var parts = line.Split('|', 2);
                return new Place { City = parts[0].Trim(), Address = parts.Length > 1 ? parts[1].Trim() : "" };
            }));
            published = await callOuts.PublishAsync(content, Form.Recipients, audience: null, ct);
        }, "The call-out is published and on its way to the networks you chose.");
        return published is null ? result : RedirectToPage("/CallOuts/Show", new { id = published.Id });
    }
}
