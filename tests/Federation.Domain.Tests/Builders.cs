using System.Security.Cryptography;
using Federation.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>Node ids, terms and content that satisfy every rule, to be spoiled one part at a time.</summary>
internal static class Make
{
    public static string NodeId() => Identifiers.NodeIdFromPublicKey(RandomNumberGenerator.GetBytes(91));

    public static FightTerms CompleteTerms(string demand = "Pay the withheld wages") => new()
    {
        Demands = { demand, "Reinstate the sacked workers" },
        Strategy = "Pickets at every branch until the wages are paid.",
        Facts = "Three months of wages withheld from twelve workers.",
        EndConditions = "All wages paid in full and everyone reinstated.",
        Materials = "Leaflet text attached.",
    };

    public static Target Target() => new() { Name = "Acme Cleaning Ltd", ParentCompany = "Acme Holdings" };

    public static CallOutContent Content() => new()
    {
        Title = "Picket Acme on Friday",
        Target = Target(),
        Places = { new Place { City = "Leeds", Address = "1 High Street" } },
        ActionTypes = { ActionType.Picket, ActionType.Leafleting },
        WindowStart = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 3, 7, 9, 0, 0, TimeSpan.Zero)),
        WindowEnd = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 3, 7, 17, 0, 0, TimeSpan.Zero)),
        TimeZone = "Europe/London",
        DemandSummary = "Pay the withheld wages.",
    };

    public static RuleViolation Refused(Action action, RefusalKind kind, string rule)
    {
        var ex = Assert.Throws<RuleViolation>(action);
        Assert.Equal(kind, ex.Kind);
        Assert.Equal(rule, ex.Rule);
        return ex;
    }

    public static RuleViolation Invalid(Action action) => Refused(action, RefusalKind.InvalidArgument, "valid input");
}

/// <summary>
/// Builds an object's log the way its origin does: every event signed by the origin,
/// numbered in sequence, and folded through <see cref="EventLog.Apply"/>.
/// </summary>
internal sealed class Log<TState> where TState : class, IMessage<TState>
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public Log(ObjectKind kind, string? origin = null)
    {
        Kind = kind;
        Origin = origin ?? Make.NodeId();
        ObjectId = Identifiers.NewObjectId(Origin);
    }

    public ObjectKind Kind { get; }
    public string Origin { get; }
    public string ObjectId { get; }
    public TState? State { get; private set; }

    /// <summary>The events appended so far, as the origin would serve them for backfill.</summary>
    public List<byte[]> Events { get; } = [];
    public ulong NextSequence => State is null ? 1 : LastSequence(State) + 1;

    /// <summary>The event the origin would append next, recording <paramref name="actor"/>'s action (the origin's by default).</summary>
    public EventPayload Event(EventBody body, string? actor = null, ulong? sequence = null) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        ObjectId = ObjectId,
        ObjectKind = Kind,
        OriginNode = Origin,
        ActorNode = actor ?? Origin,
        Sequence = sequence ?? NextSequence,
        OccurredAt = Timestamp.FromDateTimeOffset(Start.AddMinutes((double)(sequence ?? NextSequence))),
        Body = body,
    };

    /// <summary>Applies the event, which must be allowed, and keeps the new state.</summary>
    public TState Append(EventBody body, string? actor = null) => Append(Event(body, actor));

    public TState Append(EventPayload e)
    {
        State = (TState)EventLog.Apply(State, e);
        Events.Add(e.ToByteArray());
        return State;
    }

    /// <summary>
    /// Applies the event, which must be refused with <paramref name="kind"/> and <paramref name="rule"/>,
    /// and checks that the state held before is exactly as it was.
    /// </summary>
    public RuleViolation Refuse(EventPayload e, RefusalKind kind, string rule)
    {
        var before = State?.Clone();
        var held = State;
        var ex = Make.Refused(() => EventLog.Apply(held, e), kind, rule);
        Assert.Equal(before, held);
        return ex;
    }

    public RuleViolation Refuse(EventBody body, RefusalKind kind, string rule, string? actor = null) =>
        Refuse(Event(body, actor), kind, rule);

    private static ulong LastSequence(TState s) => s switch
    {
        FightState f => f.LastSequence,
        CallOutState c => c.LastSequence,
        _ => throw new InvalidOperationException(),
    };
}
