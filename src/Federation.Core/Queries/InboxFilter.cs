using Federation.Contracts.V1;
using Federation.Domain;

namespace Federation.Core.Queries;

/// <summary>
/// The delegate's inbox: which call-outs match a query, soonest time window first.
/// Pure, so it is tested without a node.
/// </summary>
public static class InboxFilter
{
    /// <summary>
    /// Open means not closed and not past its expiry: a replica whose issuer is offline
    /// still shows an expired call-out as closed, although the close event has not arrived.
    /// </summary>
    public static bool IsOpen(CallOutState c, DateTimeOffset now) => !c.Closed && !CallOuts.IsPastExpiry(c, now);

    public static IReadOnlyList<CallOutState> Apply(
        IEnumerable<CallOutState> callOuts,
        InboxQuery query,
        string self,
        IReadOnlyDictionary<string, string> regionOf,
        DateTimeOffset now)
    {
        Check(query);
        var from = query.WindowFrom?.ToDateTimeOffset();
        var to = query.WindowTo?.ToDateTimeOffset();
        var city = query.City.Trim();
        var region = CallOuts.NormaliseRegion(query.Region);
        return callOuts
            .Where(c => query.IncludeIssued || c.OriginNode != self)
            .Where(c => query.State switch
            {
                InboxStateFilter.Open => IsOpen(c, now),
                InboxStateFilter.Closed => !IsOpen(c, now),
                _ => true,
            })
            .Where(c => city.Length == 0 || c.Content.Places.Any(p => string.Equals(p.City.Trim(), city, StringComparison.OrdinalIgnoreCase)))
            .Where(c => region.Length == 0 || CallOuts.NormaliseRegion(regionOf.GetValueOrDefault(c.OriginNode, "")) == region)
            .Where(c => query.ActionTypes.Count == 0 || c.Content.ActionTypes.Any(query.ActionTypes.Contains))
            .Where(c => query.FightId.Length == 0 || c.Content.FightId == query.FightId)
            .Where(c => (from is null && to is null) || Overlaps(c.Content, from, to))
            .OrderBy(c => c.Content.WindowStart is null ? 1 : 0)
            .ThenBy(c => c.Content.WindowStart?.ToDateTimeOffset())
            .ThenBy(c => c.PublishedAt?.ToDateTimeOffset())
            .ThenBy(c => c.Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>A call-out without a time window matches no date filter: it has no date to match.</summary>
    private static bool Overlaps(CallOutContent c, DateTimeOffset? from, DateTimeOffset? to)
    {
        if (c.WindowStart is null)
        {
            return false;
        }
        var start = c.WindowStart.ToDateTimeOffset();
        var end = c.WindowEnd?.ToDateTimeOffset() ?? start;
        return (to is null || start <= to) && (from is null || end >= from);
    }

    private static void Check(InboxQuery q)
    {
        if (!Enum.IsDefined(q.State))
        {
            throw RuleViolation.Invalid("The state filter must be open, closed or any.");
        }
        Text.Check("city", q.City, Text.ShortMax);
        Text.Check("region", q.Region, Text.ShortMax);
        if (q.ActionTypes.Any(a => a == ActionType.Unspecified || !Enum.IsDefined(a)))
        {
            throw RuleViolation.Invalid("Every action type must be one of: picket, phone/e-mail blockade, leafleting, noise demo, call-in day, online.");
        }
        // An impossible date would make ToDateTimeOffset throw and come back as INTERNAL.
        Dates.Check("from", q.WindowFrom);
        Dates.Check("until", q.WindowTo);
        if (q.WindowFrom is not null && q.WindowTo is not null && q.WindowTo.ToDateTimeOffset() < q.WindowFrom.ToDateTimeOffset())
        {
            throw RuleViolation.Invalid("The date filter ends before it starts.");
        }
        if (q.FightId.Length > 0)
        {
            Identifiers.OriginOf(q.FightId);
        }
    }
}
