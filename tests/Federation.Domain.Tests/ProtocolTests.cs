using Federation.Contracts.V1;
using Federation.Domain;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>Versions and capabilities between two nodes: one major version talks, another is refused by name.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public void APeerThatAdvertisesNothingIsAReleaseBeforeTheExchange()
    {
        var legacy = Protocol.Read("", "", []);

        Assert.Equal(new ProtocolVersion(1, 0), legacy.Protocol);
        Assert.False(legacy.Has(Protocol.Capabilities.PeerVersions));
    }

    [Fact]
    public void AnAdvertisementIsReadWithItsCapabilities()
    {
        var spoken = Protocol.Read("1.7", "0.4.2", ["peer-versions", "bundles"]);

        Assert.Equal(new ProtocolVersion(1, 7), spoken.Protocol);
        Assert.Equal("0.4.2", spoken.Software);
        Assert.True(spoken.Has("bundles"));
        Assert.False(spoken.Has("relay"));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1.x")]
    [InlineData("one.two")]
    [InlineData("1.1.1")]
    public void AProtocolVersionThatIsNotMajorDotMinorIsRefused(string version)
    {
        var v = Assert.Throws<RuleViolation>(() => Protocol.Read(version, "0.2.0", []));
        Assert.Equal(RefusalKind.InvalidArgument, v.Kind);
    }

    [Theory]
    [InlineData("Bundles")]
    [InlineData("")]
    [InlineData("signatures ed25519")]
    [InlineData("\u001b[31m")]
    public void CapabilityNamesAreShortLowerCaseWords(string name)
    {
        Assert.Throws<RuleViolation>(() => Protocol.Read("1.1", "0.2.0", [name]));
    }

    [Fact]
    public void TooManyCapabilitiesAreRefused()
    {
        Assert.Throws<RuleViolation>(() => Protocol.Read("1.1", "0.2.0", Enumerable.Range(0, Protocol.MaxCapabilities + 1).Select(i => $"c{i}")));
    }

    [Fact]
    public void TheSameMajorVersionTalksWhateverTheMinor()
    {
        Protocol.RequireSameMajor(new ProtocolVersion(1, 1), new ProtocolVersion(1, 0), "peer beta");
        Protocol.RequireSameMajor(new ProtocolVersion(1, 1), new ProtocolVersion(1, 9), "peer beta");
    }

    [Fact]
    public void AnotherMajorVersionIsRefusedNamingBothAndMarkedAsTheProtocols()
    {
        var v = Assert.Throws<RuleViolation>(() => Protocol.RequireSameMajor(new ProtocolVersion(1, 1), new ProtocolVersion(2, 0), "peer beta"));

        Assert.Equal(RefusalKind.FailedPrecondition, v.Kind);
        Assert.Equal(Rules.ProtocolVersion, v.Rule);
        Assert.Contains("This node speaks federation protocol 1.1; peer beta speaks 2.0", v.Message);
    }

    [Fact]
    public void ThisBuildSpeaksTheCurrentVersionAndAdvertisesTheExchange()
    {
        Assert.Equal(1, Protocol.Current.Major);
        Assert.Contains(Protocol.Capabilities.PeerVersions, Protocol.ThisBuild);
        Assert.All(Protocol.ThisBuild, c => Protocol.Read("1.1", "x", [c]));
    }

    [Fact]
    public void OnlyAnUnsharedReportBackNeedsTheIssuerToWithholdIt()
    {
        static SubmissionPayload Responding(CallOutResponse r) => new() { CallOutResponse = r };

        Assert.Equal(Protocol.Capabilities.WithheldReportBacks,
            Protocol.CapabilityNeeded(Responding(new CallOutResponse { Kind = ResponseKind.ReportBack, Report = "We picketed." })));
        Assert.Null(Protocol.CapabilityNeeded(Responding(new CallOutResponse { Kind = ResponseKind.ReportBack, Report = "We picketed.", ShareWithRecipients = true })));
        Assert.Null(Protocol.CapabilityNeeded(Responding(new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-12" })));
        Assert.Null(Protocol.CapabilityNeeded(new SubmissionPayload { AcceptInvitation = new AcceptInvitation { TermsHash = "h" } }));
        Assert.Contains(Protocol.Capabilities.WithheldReportBacks, Protocol.ThisBuild);
    }

    [Fact]
    public void OnlyAWithheldResponseEventNeedsTheRecipientToTakeIt()
    {
        static EventBody Responded(CallOutResponse r) => new() { CallOutResponded = new CallOutResponded { Network = "n", Response = r } };

        Assert.Equal(Protocol.Capabilities.WithheldReportBacks,
            Protocol.CapabilityNeeded(Responded(new CallOutResponse { Kind = ResponseKind.ReportBack, Withheld = true })));
        Assert.Null(Protocol.CapabilityNeeded(Responded(new CallOutResponse { Kind = ResponseKind.ReportBack, Report = "shared", ShareWithRecipients = true })));
        Assert.Null(Protocol.CapabilityNeeded(new EventBody { FightOpened = new FightOpened() }));
    }
}
