using System.Security.Cryptography;
using Federation.Contracts.V1;
using Xunit;

namespace Federation.Domain.Tests;

public class IdentifierTests
{
    [Fact]
    public void NodeIdIsThirtyTwoLowerHexDigitsDerivedFromTheKey()
    {
        var key = RandomNumberGenerator.GetBytes(91);

        var id = Identifiers.NodeIdFromPublicKey(key);

        Assert.True(Identifiers.IsNodeId(id));
        Assert.Equal(id, Identifiers.NodeIdFromPublicKey(key));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(key)[..16]), id);
        Assert.NotEqual(id, Make.NodeId());
    }

    [Fact]
    public void ANetworkShownShortIsShownBy64BitsSoALookAlikeIsToldApart()
    {
        // A made-up key whose id matches a peer's first 32 bits takes minutes to find; the
        // short form must not stop there.
        var peer = Make.NodeId();
        var lookAlike = peer[..8] + new string(peer[8..].Select(c => c == '0' ? '1' : '0').ToArray());

        var shown = Identifiers.ShortFingerprint(peer);

        Assert.Equal(16, shown.Replace("-", "", StringComparison.Ordinal).Length);
        Assert.StartsWith(shown, Identifiers.Fingerprint(peer), StringComparison.Ordinal);
        Assert.NotEqual(shown, Identifiers.ShortFingerprint(lookAlike));
    }

    [Fact]
    public void FingerprintGroupsTheNodeIdInFours()
    {
        var id = Make.NodeId();

        var fingerprint = Identifiers.Fingerprint(id);

        Assert.Equal(8, fingerprint.Split('-').Length);
        Assert.All(fingerprint.Split('-'), g => Assert.Equal(4, g.Length));
        Assert.Equal(id, fingerprint.Replace("-", ""));
    }

    [Fact]
    public void FingerprintRoundTripsToTheNodeId()
    {
        var id = Make.NodeId();

        Assert.Equal(id, Identifiers.NodeIdFromFingerprint(Identifiers.Fingerprint(id)));
    }

    [Fact]
    public void FingerprintIsAcceptedAsPeopleTypeIt()
    {
        var id = Make.NodeId();
        var typed = Identifiers.Fingerprint(id).ToUpperInvariant().Replace('-', ' ');

        Assert.Equal(id, Identifiers.NodeIdFromFingerprint(typed));
        Assert.Equal(id, Identifiers.NodeIdFromFingerprint(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abcd-efgh")]
    [InlineData("0123-4567-89ab-cdef-0123-4567-89ab-cde")]
    [InlineData("0123-4567-89ab-cdef-0123-4567-89ab-cdef-0")]
    [InlineData("0123-4567-89ab-cdef-0123-4567-89ab-cdeg")]
    public void MalformedFingerprintIsRefused(string fingerprint)
    {
        Make.Invalid(() => Identifiers.NodeIdFromFingerprint(fingerprint));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef", true)]
    [InlineData("0123456789ABCDEF0123456789ABCDEF", false)]
    [InlineData("0123456789abcdef0123456789abcde", false)]
    [InlineData("0123456789abcdef0123456789abcdef0", false)]
    [InlineData("0123456789abcdef0123456789abcdeg", false)]
    [InlineData("", false)]
    public void IsNodeIdAcceptsOnlyThirtyTwoLowerHexDigits(string value, bool expected)
    {
        Assert.Equal(expected, Identifiers.IsNodeId(value));
    }

    [Fact]
    public void NewObjectIdNamesItsOrigin()
    {
        var origin = Make.NodeId();

        var objectId = Identifiers.NewObjectId(origin);

        Assert.Equal(origin, Identifiers.OriginOf(objectId));
        Assert.True(Identifiers.TryOriginOf(objectId, out var parsed));
        Assert.Equal(origin, parsed);
        Assert.NotEqual(objectId, Identifiers.NewObjectId(origin));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not an id")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef.")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcde")]
    [InlineData("0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef0")]
    [InlineData("0123456789abcdef0123456789abcdef.0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF.0123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcde.f0123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef.0123456789abcdef-123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef.0123456789abcdef.123456789abcdef")]
    public void MalformedObjectIdIsRefused(string objectId)
    {
        Make.Invalid(() => Identifiers.OriginOf(objectId));
        Assert.False(Identifiers.TryOriginOf(objectId, out var origin));
        Assert.Equal("", origin);
    }

    [Fact]
    public void WellFormedObjectIdYieldsItsOrigin()
    {
        Assert.Equal("0123456789abcdef0123456789abcdef",
            Identifiers.OriginOf("0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210"));
    }

    [Fact]
    public void OriginMaySignItsOwnObjectsEvents()
    {
        var origin = Make.NodeId();

        var ex = Record.Exception(() => EventLog.CheckSigner(Identifiers.NewObjectId(origin), origin));

        Assert.Null(ex);
    }

    [Fact]
    public void SignerWhoIsNotTheOriginIsRefused()
    {
        var origin = Make.NodeId();
        var forger = Make.NodeId();

        Make.Refused(() => EventLog.CheckSigner(Identifiers.NewObjectId(origin), forger),
            RefusalKind.PermissionDenied, Rules.OriginAuthority);
    }

    [Fact]
    public void SignerOfAMalformedObjectIdIsRefused()
    {
        var origin = Make.NodeId();

        Make.Invalid(() => EventLog.CheckSigner(origin, origin));
    }

    [Fact]
    public void EventSignedByAnotherNodeIsRefusedByEveryReplica()
    {
        // A participant forging an event on someone else's fight: it signs, so it is the
        // event's origin_node, but the object id names the real origin.
        var realOrigin = Make.NodeId();
        var forger = Make.NodeId();
        var (bytes, hash) = Terms.Freeze(Make.CompleteTerms());
        var forged = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = Identifiers.NewObjectId(realOrigin),
            ObjectKind = ObjectKind.Fight,
            OriginNode = forger,
            ActorNode = forger,
            Sequence = 1,
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Body = new EventBody { FightOpened = new FightOpened { Title = "Forged", Target = Make.Target(), Terms = bytes, TermsHash = hash } },
        };

        Make.Refused(() => EventLog.Apply(null, forged), RefusalKind.PermissionDenied, Rules.OriginAuthority);
    }
}
