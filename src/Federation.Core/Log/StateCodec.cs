using Federation.Contracts.V1;
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
}
