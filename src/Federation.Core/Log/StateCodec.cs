using Federation.Contracts.V1;
using Federation.Core.Storage;
using Google.Protobuf;

namespace Federation.Core.Log;

/// <summary>Reads the folded state stored for an object.</summary>
public static class StateCodec
{
    public static IMessage Parse(ObjectKind kind, byte[] bytes) => kind switch
    {
        ObjectKind.Fight => FightState.Parser.ParseFrom(bytes),
        ObjectKind.CallOut => CallOutState.Parser.ParseFrom(bytes),
        ObjectKind.Briefings => BriefingsState.Parser.ParseFrom(bytes),
        _ => throw new InvalidOperationException($"Unknown object kind {kind}."),
    };

    /// <summary>The state of one object of <paramref name="kind"/>; null when there is none, or it is of another kind.</summary>
    public static T? Read<T>(this IObjectReads store, string objectId, ObjectKind kind, MessageParser<T> parser) where T : IMessage<T> =>
        store.GetObject(objectId) is { } stored && stored.Kind == kind ? parser.ParseFrom(stored.State) : default;

    /// <summary>
    /// The title people know an object by (a fight's, or a call-out's); empty when this
    /// node holds no such object, or it has none (briefings, a purged call-out).
    /// </summary>
    public static string Title(this IObjectReads store, string objectId) => store.GetObject(objectId) switch
    {
        { Kind: ObjectKind.Fight } o => FightState.Parser.ParseFrom(o.State).Title,
        { Kind: ObjectKind.CallOut } o => CallOutState.Parser.ParseFrom(o.State).Content?.Title ?? "",
        _ => "",
    };

    /// <summary>The states of every object of <paramref name="kind"/> this node holds.</summary>
    public static IReadOnlyList<T> ReadAll<T>(this IObjectReads store, ObjectKind kind, MessageParser<T> parser) where T : IMessage<T> =>
        store.ListObjects(kind).Select(o => parser.ParseFrom(o.State)).ToList();
}
