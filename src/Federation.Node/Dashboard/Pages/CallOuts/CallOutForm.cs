using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Dashboard.Pages.CallOuts;

/// <summary>A call-out's content as the compose and update forms hold it: places one a line, times in UTC.</summary>
public sealed class CallOutForm
{
    public string? Title { get; set; }
    public string? Target { get; set; }
    public string? ParentCompany { get; set; }
    public string? Demand { get; set; }
    public string? Places { get; set; }
    public List<ActionType> Actions { get; set; } = [];
    public string? WindowStart { get; set; }
    public string? WindowEnd { get; set; }
    public string? TimeZone { get; set; }
    public string? TalkingPoints { get; set; }
    public string? SafetyNotes { get; set; }
    public string? ExpiresAt { get; set; }
    public string? FightId { get; set; }
    public List<string> Recipients { get; set; } = [];
    public string? Regions { get; set; }

    /// <summary>Also post it to the node's fediverse followers (issue 19); the compose form offers it only when the actor is on.</summary>
    public bool FediversePublic { get; set; }

    public static readonly ActionType[] ActionTypes = System.Enum.GetValues<ActionType>().Where(a => a != ActionType.Unspecified).ToArray();

    /// <summary>The content the domain checks; <paramref name="parse"/> reads a UTC time field or refuses it.</summary>
    public CallOutContent ToContent(Func<string?, string, Timestamp?> parse)
    {
        var content = new CallOutContent
        {
            Title = Title ?? "",
            Target = new Target { Name = Target ?? "", ParentCompany = ParentCompany ?? "" },
            DemandSummary = Demand ?? "",
            WindowStart = parse(WindowStart, "window start"),
            WindowEnd = parse(WindowEnd, "window end"),
            TimeZone = TimeZone ?? "",
            TalkingPoints = TalkingPoints ?? "",
            SafetyNotes = SafetyNotes ?? "",
            ExpiresAt = parse(ExpiresAt, "expires"),
            FightId = FightId ?? "",
        };
        content.ActionTypes.AddRange(Actions);
        // One place a line: "City | address" (the address is optional).
        content.Places.AddRange((Places ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Select(line =>
        {
            var parts = line.Split('|', 2);
            return new Place { City = parts[0].Trim(), Address = parts.Length > 1 ? parts[1].Trim() : "" };
        }));
        return content;
    }

    /// <summary>The regions field, one or more separated by commas; empty when none are given.</summary>
    public IReadOnlyList<string> RegionList() =>
        (Regions ?? "").Split(',', '\n').Select(r => r.Trim()).Where(r => r.Length > 0).ToList();

    /// <summary>The form for <paramref name="c"/>; <paramref name="local"/> writes its times as the node's zone reads them.</summary>
    public static CallOutForm From(CallOutContent c, Func<Timestamp?, string> local) => new()
    {
        Title = c.Title,
        Target = c.Target?.Name,
        ParentCompany = c.Target?.ParentCompany,
        Demand = c.DemandSummary,
        Places = string.Join("\n", c.Places.Select(p => p.Address.Length > 0 ? $"{p.City} | {p.Address}" : p.City)),
        Actions = c.ActionTypes.ToList(),
        WindowStart = local(c.WindowStart),
        WindowEnd = local(c.WindowEnd),
        TimeZone = c.TimeZone,
        TalkingPoints = c.TalkingPoints,
        SafetyNotes = c.SafetyNotes,
        ExpiresAt = local(c.ExpiresAt),
        FightId = c.FightId,
    };
}
