using Federation.Contracts.V1;

namespace Federation.Dashboard.Tests;

/// <summary>Sets the scene through the Application layer, so a test drives the browser only for what it checks.</summary>
public static class Seed
{
    public static FightTerms Terms() => new()
    {
        Demands = { "Return the £900 deposit", "Fix the damp" },
        Strategy = "Demand letter, then pickets at the letting office",
        Facts = "Tenant left in September; deposit withheld without reason",
        EndConditions = "Deposit returned in full",
    };

    /// <summary>An open fight at <paramref name="initiator"/> that each of <paramref name="joiners"/> has accepted.</summary>
    public static async Task<string> FightWithAsync(DashboardNode initiator, params DashboardNode[] joiners)
    {
        var draft = await initiator.Fights.DraftAsync("Acme deposit fight", new Target { Name = "Acme Lettings" }, Terms(), CancellationToken.None);
        await initiator.Fights.OpenAsync(draft.Id, CancellationToken.None);
        await initiator.Fights.InviteAsync(draft.Id, joiners.Select(j => j.NodeId).ToList(), CancellationToken.None);
        foreach (var j in joiners)
        {
            await Eventually.TrueAsync(() => j.Fights.List().Any(f => f.Id == draft.Id), $"the invitation to reach {j.Name}");
            await j.Fights.AcceptAsync(draft.Id, j.Fights.Get(draft.Id).TermsHash, CancellationToken.None);
        }
        await Eventually.TrueAsync(() => joiners.All(j =>
            j.Fights.Get(draft.Id).Participants.Single(p => p.Network == j.NodeId).State == ParticipantState.Committed),
            "every acceptance to be recorded and shared");
        return draft.Id;
    }
}
