using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>
/// The kinds of notification a webhook or e-mail recipient can be limited to (issue 17 #1),
/// by the names people type (<c>--kinds stand-down,invitation</c>). A channel with no kinds
/// is sent every kind.
/// </summary>
public static class NotificationKinds
{
    public static readonly IReadOnlyDictionary<string, InboxChange[]> Table = new Dictionary<string, InboxChange[]>
    {
        ["invitation"] = [InboxChange.Invited],
        ["amendment"] = [InboxChange.Amended],
        ["stand-down"] = [InboxChange.StandDown],
        ["release-request"] = [InboxChange.ReleaseRequested],
        ["release"] = [InboxChange.Released],
        ["briefing"] = [InboxChange.BriefingPosted],
        ["call-out"] = [InboxChange.Published],
        ["call-out-update"] = [InboxChange.Updated],
        ["call-out-end"] = [InboxChange.Closed, InboxChange.Cancelled, InboxChange.Expired],
        ["response"] = [InboxChange.Responded],
        // At the initiator of a fight: what the other networks did in it (issue 17 #1, #2).
        ["report"] = [InboxChange.ReportFiled],
        ["acceptance"] = [InboxChange.Accepted],
        ["decline"] = [InboxChange.Declined],
        ["acknowledgement"] = [InboxChange.StandDownAcknowledged],
        ["action-report"] = [InboxChange.ActionReported],
        ["reminder"] = [InboxChange.Reminder],
    };

    public static string Known => string.Join(", ", Table.Keys);

    /// <summary>The kind a change belongs to; "" for one that has none.</summary>
    public static string Of(InboxChange change) =>
        Table.FirstOrDefault(k => k.Value.Contains(change)).Key ?? "";

    /// <summary>
    /// The kinds named, each once, in the table's order; each name may itself be a comma-separated
    /// list. An unknown name is refused, naming the known ones.
    /// </summary>
    public static IReadOnlyList<string> Parse(IEnumerable<string> names)
    {
        var wanted = names.SelectMany(n => n.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Select(n => n.ToLowerInvariant()).ToHashSet();
        var unknown = wanted.Where(n => !Table.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
        {
            throw RuleViolation.Invalid(
                $"'{Identifiers.Truncate(string.Join(",", unknown))}' {(unknown.Count == 1 ? "is not a kind" : "are not kinds")} of notification; the kinds are: {Known}.");
        }
        return Table.Keys.Where(wanted.Contains).ToList();
    }

    /// <summary>Whether a channel limited to <paramref name="kinds"/> (none: every kind) is sent <paramref name="change"/>.</summary>
    public static bool Wants(IReadOnlyCollection<string> kinds, InboxChange change) =>
        kinds.Count == 0 || kinds.Contains(Of(change));
}
