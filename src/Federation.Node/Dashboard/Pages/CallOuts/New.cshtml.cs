using Federation.Contracts.V1;
using Federation.Core.Commands;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages.CallOuts;

/// <summary>Compose a call-out; the domain checks the content and the audience.</summary>
public sealed class NewModel(DashboardContext context, CallOutCommands callOuts, FightCommands fights,
    Federation.Core.Fediverse.FediverseSite fediverse) : DashboardPage(context)
{
    /// <summary>The node's fediverse account (acct:name@host) when its actor is on; null offers no public choice.</summary>
    public string? FediverseAccount => fediverse.Enabled ? $"@{fediverse.Account}@{fediverse.Host}" : null;

    [BindProperty]
    public CallOutForm Form { get; set; } = new();

    public IReadOnlyList<FightState> OurFights { get; private set; } = [];

    protected override void Load()
    {
        OurFights = fights.List().Where(f => f.OriginNode == Node.Me && f.Status != FightStatus.Draft && !Federation.Domain.Fights.IsEnded(f.Status)).ToList();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        CallOutState? published = null;
        var result = await RunAsync("PublishCallOut", async () =>
        {
            var content = Form.ToContent(ParseLocal);
            var regions = Form.RegionList();
            // Regions are an audience of their own; CallOutCommands refuses regions and ticked networks together.
            var audience = regions.Count > 0 ? new CallOutAudience { Kind = AudienceKind.Regions, Regions = { regions } } : null;
            published = await callOuts.PublishAsync(content, Form.Recipients, audience, ct, toFediverse: Form.FediversePublic);
        }, "The call-out is published and on its way to the networks you chose.");
        if (published is null)
        {
            return result;
        }
        Warn(published.Warnings);
        return RedirectToPage("/CallOuts/Show", new { id = published.Id });
    }
}
