using Federation.Contracts.V1;
using Google.Protobuf;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>A call-out published to a digest of its audience (issue 20 #3, docs/adr/0030).</summary>
public class CallOutAudienceDigestTests
{
    private readonly Log<CallOutState> _issuer = new(ObjectKind.CallOut);
    private readonly Log<CallOutState> _recipient;
    private readonly string _a = Make.NodeId();
    private readonly string _b = Make.NodeId();
    private readonly string _c = Make.NodeId();

    public CallOutAudienceDigestTests() => _recipient = new Log<CallOutState>(ObjectKind.CallOut, _issuer.Origin);

    /// <summary>The issuer applies the publication whole; the recipient applies what the issuer signs and sends.</summary>
    private EventPayload Publish(CallOutAudience? audience = null)
    {
        var e = _issuer.Event(CallOuts.Publish(Make.Content(), [_a, _b, _c], audience, toDigest: true));
        _issuer.Append(e);
        var sent = EventLog.AsSigned(e);
        _recipient.Append(sent);
        return sent;
    }

    [Fact]
    public void TheIssuerKeepsTheListAndWhatItSignsNamesNone()
    {
        var sent = Publish(new CallOutAudience { Kind = AudienceKind.ChosenPeers, Networks = { _a, _b, _c } });

        Assert.Equal(new[] { _a, _b, _c }, _issuer.State!.Recipients);
        Assert.Equal(new[] { _a, _b, _c }, _issuer.State.Audience.Networks);
        Assert.Empty(sent.Body.CallOutPublished.Recipients);
        Assert.Empty(sent.Body.CallOutPublished.Audience.Networks);
        Assert.Equal(AudienceKind.ChosenPeers, sent.Body.CallOutPublished.Audience.Kind);
        var bytes = sent.ToByteString().ToStringUtf8();
        Assert.DoesNotContain(_a, bytes);
        Assert.DoesNotContain(_c, bytes);

        var held = _recipient.State!;
        Assert.Empty(held.Recipients);
        Assert.Equal(3u, held.RecipientCount);
        Assert.Equal(3, CallOuts.RecipientCount(held));
        Assert.Equal(CallOuts.RecipientsDigest([_c, _a, _b]), held.RecipientsDigest);
        Assert.Equal(_issuer.State.RecipientsDigest, held.RecipientsDigest);
    }

    [Fact]
    public void WithoutTheDigestWhatIsSignedIsWhatIsApplied()
    {
        var e = _issuer.Event(CallOuts.Publish(Make.Content(), [_a, _b]));

        Assert.Same(e, EventLog.AsSigned(e));
        Assert.Equal(2, CallOuts.RecipientCount(_issuer.Append(e)));
    }

    [Fact]
    public void TheDigestDoesNotDependOnTheOrder()
    {
        Assert.Equal(CallOuts.RecipientsDigest([_a, _b, _c]), CallOuts.RecipientsDigest([_c, _b, _a]));
        Assert.NotEqual(CallOuts.RecipientsDigest([_a, _b]), CallOuts.RecipientsDigest([_a, _c]));
        Assert.Equal(32, CallOuts.RecipientsDigest([_a]).Length);
    }

    [Fact]
    public void AListThatIsNotTheOneTheDigestNamesIsRefused()
    {
        var body = CallOuts.Publish(Make.Content(), [_a, _b], toDigest: true);
        body.CallOutPublished.Recipients.Add(_c);
        body.CallOutPublished.RecipientCount = 3;

        var refused = _issuer.Refuse(body, RefusalKind.InvalidArgument, "valid input");
        Assert.Contains("not the ones its audience digest names", refused.Message);
    }

    [Fact]
    public void ADigestThatIsNotASha256OfAtLeastOneRecipientIsRefused()
    {
        var shortDigest = new EventBody { CallOutPublished = new CallOutPublished { Content = Make.Content(), RecipientsDigest = ByteString.CopyFrom(new byte[16]), RecipientCount = 2 } };
        var noCount = new EventBody { CallOutPublished = new CallOutPublished { Content = Make.Content(), RecipientsDigest = CallOuts.RecipientsDigest([_a]) } };

        _recipient.Refuse(shortDigest, RefusalKind.InvalidArgument, "valid input");
        _recipient.Refuse(noCount, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void ChosenNetworksBesideADigestAreRefused()
    {
        var body = new EventBody
        {
            CallOutPublished = new CallOutPublished
            {
                Content = Make.Content(),
                RecipientsDigest = CallOuts.RecipientsDigest([_a]),
                RecipientCount = 1,
                Audience = new CallOutAudience { Kind = AudienceKind.ChosenPeers, Networks = { _a } },
            },
        };

        _recipient.Refuse(body, RefusalKind.InvalidArgument, "valid input");
    }

    [Fact]
    public void TheIssuerStillRefusesAStrangerAndARecipientTakesItsWordForWhoResponded()
    {
        Publish();
        var stranger = Make.NodeId();
        var pledge = new EventBody { CallOutResponded = new CallOutResponded { Network = stranger, Response = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "Friday", Place = "Leeds" } } };

        _issuer.Refuse(pledge, RefusalKind.PermissionDenied, Rules.Recipients, actor: stranger);
        var byA = new EventBody { CallOutResponded = new CallOutResponded { Network = _a, Response = pledge.CallOutResponded.Response } };
        _issuer.Append(byA, actor: _a);
        _recipient.Append(byA, actor: _a);

        Assert.Equal(_a, _recipient.State!.Responses.Single().Network);
        Assert.True(CallOuts.IsRecipient(_recipient.State, stranger));
        Assert.False(CallOuts.IsRecipient(_issuer.State!, stranger));
    }

    [Fact]
    public void TheIssuerRecoveringFromCopiesLearnsTheRecipientsThatHoldOne()
    {
        Publish();
        var recovered = _recipient.State!.Clone();

        Assert.True(CallOuts.LearnRecipients(recovered, [_b, _issuer.Origin, "not a node id"]));
        Assert.Equal(new[] { _b }, recovered.Recipients);
        Assert.False(CallOuts.IsRecipient(recovered, _a));
        Assert.False(CallOuts.LearnRecipients(recovered, [_b]));
        Assert.True(CallOuts.LearnRecipients(recovered, [_c, _a]));
        Assert.Equal(3, recovered.Recipients.Count);
        Assert.Equal(CallOuts.RecipientsDigest(recovered.Recipients), recovered.RecipientsDigest);
        // Once as many as the count are known, no more is taken.
        Assert.False(CallOuts.LearnRecipients(recovered, [Make.NodeId()]));
        Assert.False(CallOuts.LearnRecipients(_issuer.State!.Clone(), [Make.NodeId()]));
    }

    [Fact]
    public void APublicationByDigestGoesOnlyToAPeerThatTakesIt()
    {
        var toDigest = CallOuts.Publish(Make.Content(), [_a], toDigest: true);
        var listed = CallOuts.Publish(Make.Content(), [_a]);

        Assert.Equal(Protocol.Capabilities.AudienceDigest, Protocol.CapabilityNeeded(EventLog.AsSigned(_issuer.Event(toDigest)).Body));
        Assert.Null(Protocol.CapabilityNeeded(listed));
        Assert.Contains(Protocol.Capabilities.AudienceDigest, Protocol.ThisBuild);
    }
}
