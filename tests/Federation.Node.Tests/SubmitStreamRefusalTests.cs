using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Node.Delivery;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// A submission refused inside a SubmitStream is settled as Submit's refusal would be:
/// the answer carries Submit's trailers, and delivery classifies the rebuilt refusal with
/// the same rule (<see cref="PeerDelivery.Parks"/>).
/// </summary>
public sealed class SubmitStreamRefusalTests
{
    private static SubmitRefusal Refused(StatusCode code, params (string Key, string Value)[] trailers)
    {
        var refused = new SubmitRefusal { StatusCode = (int)code, Detail = "why" };
        foreach (var (key, value) in trailers)
        {
            refused.Trailers[key] = value;
        }
        return refused;
    }

    [Fact]
    public void AClockRefusalInTheStreamIsRetriedNotParked()
    {
        var clock = PeerDelivery.Refusal(Refused(StatusCode.Unauthenticated, (Envelopes.ClockTrailerKey, "skew")));

        Assert.True(Envelopes.IsClockRefusal(clock));
        Assert.False(PeerDelivery.Parks(clock));
        // The same status without the trailer is a refusal for good, as it is for Submit.
        Assert.True(PeerDelivery.Parks(PeerDelivery.Refusal(Refused(StatusCode.Unauthenticated))));
        Assert.True(PeerDelivery.Parks(PeerDelivery.Refusal(Refused(StatusCode.InvalidArgument))));
    }

    [Fact]
    public void TemporaryRefusalsInTheStreamAreRetriedWithThePeersHint()
    {
        var busy = PeerDelivery.Refusal(Refused(StatusCode.ResourceExhausted, ("retry-after-ms", "1500")));

        Assert.False(PeerDelivery.Parks(busy));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), PeerDelivery.RetryAfter(busy));
        Assert.False(PeerDelivery.Parks(PeerDelivery.Refusal(Refused(StatusCode.Unavailable))));
    }

    [Fact]
    public void TheRefusalKeepsItsStatusDetailAndRule()
    {
        var refused = Refused(StatusCode.FailedPrecondition);
        refused.Rule = "terms first";
        refused.Trailers["not a key"] = "ignored";

        var rebuilt = PeerDelivery.Refusal(refused);

        Assert.Equal(StatusCode.FailedPrecondition, rebuilt.StatusCode);
        Assert.Equal("why", rebuilt.Status.Detail);
        Assert.Equal("terms first", rebuilt.Trailers.GetValue("x-fed-rule"));
        Assert.True(PeerDelivery.Parks(rebuilt));
    }
}
