using Federation.Contracts.V1;
using Federation.Node.Application;

namespace Federation.Node.Dashboard.Pages.CallOuts;

public sealed class IndexModel(DashboardContext context, CallOutCommands callOuts) : DashboardPage(context)
{
    public IReadOnlyList<CallOutState> Sent { get; private set; } = [];
    public IReadOnlyList<CallOutState> Received { get; private set; } = [];

    protected override void Load()
    {
        var all = callOuts.List().OrderByDescending(c => c.PublishedAt).ToList();
        Sent = all.Where(c => c.OriginNode == Node.Me).ToList();
        Received = all.Where(c => c.OriginNode != Node.Me).ToList();
    }

    public string OurAnswer(CallOutState c) =>
        c.Responses.FirstOrDefault(r => r.Network == Node.Me) is { } r ? Describe(r.Latest) : "not answered";
}
