using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Storage;

namespace Federation.Node.Dashboard.Pages;

/// <summary>What waits for this network's answer. The forms post to the fight and call-out pages, which hold the commands.</summary>
public sealed class IndexModel(DashboardContext context, CallOutCommands callOuts, FightCommands fights, IDeliveryReads store) : DashboardPage(context)
{
    public IReadOnlyList<CallOutState> CallOutsToAnswer { get; private set; } = [];
    public int CallOutsAnswered { get; private set; }
    public IReadOnlyList<FightState> Invitations { get; private set; } = [];
    public IReadOnlyList<FightState> Reaffirmations { get; private set; } = [];
    public IReadOnlyList<FightState> StandDowns { get; private set; } = [];
    public IReadOnlyList<(FightState Fight, Participant Network)> ReleaseRequests { get; private set; } = [];

    /// <summary>Our answer has left for the issuer but its recorded copy has not come back yet.</summary>
    public bool AnswerOnItsWay(string objectId) => store.PendingSubmissions(objectId) > 0;

    public bool Empty => CallOutsToAnswer.Count + Invitations.Count + Reaffirmations.Count + StandDowns.Count + ReleaseRequests.Count == 0;

    protected override void Load()
    {
        var me = Node.Me;
        var received = callOuts.List().Where(c => c.OriginNode != me && !c.Closed).ToList();
        // The same rule as solnet inbox and GetWhatsNew's waiting list (issue 17 #2).
        CallOutsToAnswer = received.Where(c => Federation.Domain.News.AwaitsAnswer(c, me, DateTimeOffset.UtcNow)).OrderByDescending(c => c.PublishedAt).ToList();
        CallOutsAnswered = received.Count(c => c.Responses.Any(r => r.Network == me));
        var all = fights.List();
        // What waits in a fight is decided once, in the domain, as for solnet inbox and GetWhatsNew.
        var waiting = all.Select(f => (Fight: f, Notice: Federation.Domain.FightNotices.Waiting(f, me, Node.Who))).Where(w => w.Notice is not null).ToList();
        List<FightState> Of(InboxChange change) => waiting.Where(w => w.Notice!.Change == change).Select(w => w.Fight).ToList();
        Invitations = Of(InboxChange.Invited);
        Reaffirmations = Of(InboxChange.Amended);
        StandDowns = Of(InboxChange.StandDown);
        ReleaseRequests = all.Where(f => f.OriginNode == me)
            .SelectMany(f => f.Participants.Where(p => p.ReleaseRequested && Federation.Domain.Fights.IsIn(p)).Select(p => (f, p)))
            .ToList();
    }
}
