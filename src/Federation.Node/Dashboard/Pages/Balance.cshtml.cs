using Federation.Contracts.V1;
using Federation.Core.Queries;

namespace Federation.Node.Dashboard.Pages;

public sealed class BalanceModel(DashboardContext context, BalanceView balance) : DashboardPage(context)
{
    public Balance Figures { get; private set; } = new();

    protected override void Load() => Figures = balance.Compute();

    public static string Counts(IEnumerable<OutcomeCount> counts) =>
        counts.Any() ? string.Join(", ", counts.Select(c => $"{Describe(c.Status)}: {c.Count}")) : "none";
}
