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
        Participant? Mine(FightState f) => f.Participants.FirstOrDefault(p => p.Network == me);
        Invitations = all.Where(f => f.OriginNode != me && Mine(f)?.State == ParticipantState.Invited).ToList();
        Reaffirmations = all.Where(f => f.OriginNode != me && Mine(f)?.State == ParticipantState.AwaitingReaffirmation).ToList();
        StandDowns = all.Where(f => f.OriginNode != me && Mine(f)?.StandDownPending == true).ToList();
        ReleaseRequests = all.Where(f => f.OriginNode == me)
            .SelectMany(f => f.Participants.Where(p => p.ReleaseRequested && Federation.Domain.Fights.IsIn(p)).Select(p => (f, p)))
            .ToList();
    }
}
