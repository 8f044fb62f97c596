using Federation.Contracts.V1;
using Federation.Node.Grpc;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// A submission refused inside a SubmitStream is settled as Submit's refusal would be:
/// the answer carries Submit's trailers, and delivery classifies the rebuilt refusal with
/// the same rule (<see cref="WireRefusals.Parks"/>).
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
        var clock = WireRefusals.FromSubmitRefusal(Refused(StatusCode.Unauthenticated, (WireRefusals.ClockTrailer, "skew")));

        Assert.True(WireRefusals.IsClockRefusal(clock));
        Assert.False(WireRefusals.Parks(clock));
        // The same status without the trailer is a refusal for good, as it is for Submit.
        Assert.True(WireRefusals.Parks(WireRefusals.FromSubmitRefusal(Refused(StatusCode.Unauthenticated))));
        Assert.True(WireRefusals.Parks(WireRefusals.FromSubmitRefusal(Refused(StatusCode.InvalidArgument))));
    }

    [Fact]
    public void TemporaryRefusalsInTheStreamAreRetriedWithThePeersHint()
    {
        var busy = WireRefusals.FromSubmitRefusal(Refused(StatusCode.ResourceExhausted, ("retry-after-ms", "1500")));

        Assert.False(WireRefusals.Parks(busy));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), WireRefusals.RetryAfter(busy));
        Assert.False(WireRefusals.Parks(WireRefusals.FromSubmitRefusal(Refused(StatusCode.Unavailable))));
    }

    [Fact]
    public void TheRefusalKeepsItsStatusDetailAndRule()
    {
        var refused = Refused(StatusCode.FailedPrecondition);
        refused.Rule = "terms first";
        refused.Trailers["not a key"] = "ignored";

        var rebuilt = WireRefusals.FromSubmitRefusal(refused);

        Assert.Equal(StatusCode.FailedPrecondition, rebuilt.StatusCode);
        Assert.Equal("why", rebuilt.Status.Detail);
        Assert.Equal("terms first", rebuilt.Trailers.GetValue("x-fed-rule"));
        Assert.True(WireRefusals.Parks(rebuilt));
    }
}
