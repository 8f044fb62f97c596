using Federation.Contracts.V1;
using Federation.Core.Queries;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Tests;

/// <summary>The inbox query, without a node: every filter and the order.</summary>
public sealed class InboxFilterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Self = new('a', 32);
    private static readonly string Leeds = new('b', 32);
    private static readonly string York = new('c', 32);
    private static readonly Dictionary<string, string> Regions = new() { [Leeds] = "Leeds", [York] = " York " };
    private static readonly string FightId = Identifiers.NewObjectId(Leeds);

    private static Timestamp At(double days) => Timestamp.FromDateTimeOffset(Now.AddDays(days));

    private static CallOutState CallOut(string title, string origin, string city, ActionType action, double? startDay = null, double? endDay = null) => new()
    {
        Id = Identifiers.NewObjectId(origin),
        OriginNode = origin,
        PublishedAt = At(-10),
        Content = new CallOutContent
        {
            Title = title,
            Target = new Target { Name = "Bistro Co" },
            DemandSummary = "Pay up",
            Places = { new Place { City = city } },
            ActionTypes = { action },
            WindowStart = startDay is { } s ? At(s) : null,
            WindowEnd = endDay is { } e ? At(e) : null,
        },
    };

    private readonly CallOutState _picketLeeds = CallOut("picket leeds", Leeds, "Leeds", ActionType.Picket, 3, 3.2);
    private readonly CallOutState _callInYork = CallOut("call-in york", York, "York", ActionType.CallInDay, 1, 1.5);
    private readonly CallOutState _leafletLeeds = CallOut("leaflet leeds", Leeds, "leeds", ActionType.Leafleting, 7);
    private readonly CallOutState _onlineNoWindow = CallOut("online", York, "Anywhere", ActionType.Online);
    private readonly CallOutState _own = CallOut("own", Self, "Leeds", ActionType.Picket, 2);

    private IReadOnlyList<string> Titles(InboxQuery query) =>
        InboxFilter.Apply([_picketLeeds, _callInYork, _leafletLeeds, _onlineNoWindow, _own], query, Self, Regions, Now).Select(c => c.Content.Title).ToList();

    [Fact]
    public void AnEmptyQueryListsReceivedCallOutsSoonestWindowFirstAndThoseWithoutAWindowLast()
    {
        Assert.Equal(new[] { "call-in york", "picket leeds", "leaflet leeds", "online" }, Titles(new InboxQuery()));
    }

    [Fact]
    public void IncludeIssuedAddsThisNodesOwnCallOuts()
    {
        Assert.Equal(new[] { "call-in york", "own", "picket leeds", "leaflet leeds", "online" }, Titles(new InboxQuery { IncludeIssued = true }));
    }

    [Fact]
    public void OpenLeavesOutClosedCancelledAndExpiredCallOuts()
    {
        _picketLeeds.Closed = true;
        _callInYork.Closed = true;
        _callInYork.Cancelled = true;
        _leafletLeeds.Content.ExpiresAt = At(-0.1); // expired, though the issuer's close has not arrived

        Assert.Equal(new[] { "online" }, Titles(new InboxQuery { State = InboxStateFilter.Open }));
        Assert.Equal(new[] { "call-in york", "picket leeds", "leaflet leeds" }, Titles(new InboxQuery { State = InboxStateFilter.Closed }));
    }

    [Fact]
    public void ACityMatchesAnyPlaceWhateverItsCase()
    {
        Assert.Equal(new[] { "picket leeds", "leaflet leeds" }, Titles(new InboxQuery { City = "LEEDS" }));
    }

    [Fact]
    public void ARegionMatchesTheIssuingNetworksRegion()
    {
        Assert.Equal(new[] { "call-in york", "online" }, Titles(new InboxQuery { Region = "york" }));
    }

    [Fact]
    public void ActionTypesMatchAnyOfThoseGiven()
    {
        Assert.Equal(new[] { "call-in york", "online" }, Titles(new InboxQuery { ActionTypes = { ActionType.Online, ActionType.CallInDay } }));
    }

    [Fact]
    public void ADateWindowMatchesCallOutsWhoseTimeWindowOverlapsIt()
    {
        // 1.0–1.5 overlaps [1.4, 3.1]; 3.0–3.2 overlaps; 7 does not; no window never matches a date.
        Assert.Equal(new[] { "call-in york", "picket leeds" }, Titles(new InboxQuery { WindowFrom = At(1.4), WindowTo = At(3.1) }));
        Assert.Equal(new[] { "picket leeds", "leaflet leeds" }, Titles(new InboxQuery { WindowFrom = At(3.1) }));
        Assert.Equal(new[] { "call-in york" }, Titles(new InboxQuery { WindowTo = At(2) }));
    }

    [Fact]
    public void AFightMatchesCallOutsLinkedToIt()
    {
        _leafletLeeds.Content.FightId = FightId;

        Assert.Equal(new[] { "leaflet leeds" }, Titles(new InboxQuery { FightId = FightId }));
    }

    [Fact]
    public void FiltersCombine()
    {
        Assert.Equal(new[] { "picket leeds" }, Titles(new InboxQuery { City = "Leeds", ActionTypes = { ActionType.Picket }, WindowTo = At(5) }));
    }

    [Fact]
    public void ADateFilterThatEndsBeforeItStartsIsRefused()
    {
        var ex = Assert.Throws<RuleViolation>(() => Titles(new InboxQuery { WindowFrom = At(2), WindowTo = At(1) }));

        Assert.Equal(RefusalKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public void AMalformedFightIdIsRefused()
    {
        Assert.Throws<RuleViolation>(() => Titles(new InboxQuery { FightId = "fight-1" }));
    }

    [Fact]
    public void AnUnspecifiedActionTypeIsRefused()
    {
        Assert.Throws<RuleViolation>(() => Titles(new InboxQuery { ActionTypes = { ActionType.Unspecified } }));
    }
}
