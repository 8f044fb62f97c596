using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Core.Queries;

/// <summary>
/// A network's picture of its own part in the federation, for its own reflection:
/// computed from this node's records, never sent anywhere, never a score.
/// </summary>
public sealed class BalanceView(IObjectReads store, NodeIdentity identity)
{
    public Balance Compute()
    {
        var me = identity.NodeId;
        var fights = store.ReadAll(ObjectKind.Fight, FightState.Parser);
        var initiated = fights.Where(f => f.OriginNode == me && f.Status != FightStatus.Draft);
        // Joined: fights we are in, or were in when they ended (the outcome is ours too).
        var joined = fights.Where(f => f.OriginNode != me && f.Participants.Any(p => p.Network == me && Fights.IsIn(p)));
        var answered = store.ListObjects(ObjectKind.CallOut)
            .Select(o => CallOutState.Parser.ParseFrom(o.State))
            .Where(c => c.OriginNode != me)
            .SelectMany(c => c.Responses.Where(r => r.Network == me))
            .GroupBy(r => r.Latest.Kind);
        var balance = new Balance
        {
            ActionsReported = (uint)fights.SelectMany(f => f.Actions).Count(a => a.Network == me && a.Status == ActionStatus.Reported),
        };
        balance.FightsInitiated.AddRange(Count(initiated));
        balance.FightsJoined.AddRange(Count(joined));
        balance.CallOutsAnswered.AddRange(answered.OrderBy(g => g.Key).Select(g => new ResponseCount { Kind = g.Key, Count = (uint)g.Count() }));
        return balance;
    }

    private static IEnumerable<OutcomeCount> Count(IEnumerable<FightState> fights) =>
        fights.GroupBy(f => f.Status).OrderBy(g => g.Key).Select(g => new OutcomeCount { Status = g.Key, Count = (uint)g.Count() });
}
