using Federation.Contracts.V1;
using Federation.Core.Commands;

namespace Federation.Node.Dashboard.Pages.Fights;

public sealed class IndexModel(DashboardContext context, FightCommands fights) : DashboardPage(context)
{
    public IReadOnlyList<FightState> Ours { get; private set; } = [];
    public IReadOnlyList<FightState> Joined { get; private set; } = [];

    protected override void Load()
    {
        var all = fights.List();
        Ours = all.Where(f => f.OriginNode == Node.Me).ToList();
        Joined = all.Where(f => f.OriginNode != Node.Me).ToList();
    }

    public string OurPart(FightState f) =>
        f.Participants.FirstOrDefault(p => p.Network == Node.Me) is { } p
            ? Describe(p.State) + (p.StandDownPending ? "; stand-down to acknowledge" : "")
            : "not invited";
}
