using Federation.Contracts.V1;
using Federation.Core.Commands;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages.Fights;

/// <summary>Drafts a fight. A draft stays on this node; its page shows what the terms still lack.</summary>
public sealed class NewModel(DashboardContext context, FightCommands fights) : DashboardPage(context)
{
    [BindProperty]
    public TermsForm Form { get; set; } = new();

    [BindProperty]
    public string? Title { get; set; }

    [BindProperty]
    public string? Target { get; set; }

    [BindProperty]
    public string? ParentCompany { get; set; }

    protected override void Load()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        FightState? draft = null;
        var result = await RunAsync("DraftFight", async () =>
            draft = await fights.DraftAsync(Title ?? "", new Target { Name = Target ?? "", ParentCompany = ParentCompany ?? "" }, Form.ToTerms(), ct),
            "The draft is saved. It stays on this node until you open it.");
        return draft is null ? result : RedirectToPage("/Fights/Show", new { id = draft.Id });
    }
}

/// <summary>The terms as a form holds them: demands one a line.</summary>
public sealed class TermsForm
{
    public string? Demands { get; set; }
    public string? Strategy { get; set; }
    public string? Facts { get; set; }
    public string? EndConditions { get; set; }
    public string? Materials { get; set; }

    public FightTerms ToTerms()
    {
        var terms = new FightTerms
        {
            Strategy = Strategy?.Trim() ?? "",
            Facts = Facts?.Trim() ?? "",
            EndConditions = EndConditions?.Trim() ?? "",
            Materials = Materials?.Trim() ?? "",
        };
        terms.Demands.AddRange((Demands ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
        return terms;
    }

    public static TermsForm From(FightTerms t) => new()
    {
        Demands = string.Join("\n", t.Demands),
        Strategy = t.Strategy,
        Facts = t.Facts,
        EndConditions = t.EndConditions,
        Materials = t.Materials,
    };
}
