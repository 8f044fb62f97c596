using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Tests;

/// <summary>Builds signed envelopes by hand, as a hostile or buggy node might.</summary>
public static class Forge
{
    public static Envelope Sign(NodeIdentity signer, string objectId, ObjectKind kind, ulong sequence, EventBody body, string? claimedOrigin = null)
    {
        var payload = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = objectId,
            ObjectKind = kind,
            Sequence = sequence,
            OriginNode = claimedOrigin ?? signer.NodeId,
            ActorNode = claimedOrigin ?? signer.NodeId,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Body = body,
        };
        return SignBytes(signer, payload.ToByteString(), payload);
    }

    public static Envelope SignBytes(NodeIdentity signer, ByteString bytes, EventPayload header) => new()
    {
        EventId = header.EventId,
        OriginNode = header.OriginNode,
        KeyId = header.OriginNode,
        ObjectId = header.ObjectId,
        ObjectKind = header.ObjectKind,
        Sequence = header.Sequence,
        Payload = bytes,
        Signature = ByteString.CopyFrom(signer.Sign(SignedKind.Event, bytes.Span)),
        // A certified key's certificate travels with what it signs (a thief's as anyone's).
        Certificate = signer.Current.Certificate,
    };

    public static EventBody Won(FightStatus from) => new() { FightStatusChanged = new FightStatusChanged { From = from, To = FightStatus.Won } };
}
