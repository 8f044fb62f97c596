using System.Globalization;
using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>A version of the federation protocol: nodes of one major version talk; minors only add.</summary>
public readonly record struct ProtocolVersion(int Major, int Minor)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}");

    /// <summary>"1.1" → 1.1; anything else (empty included) → null.</summary>
    public static ProtocolVersion? Parse(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            ? new ProtocolVersion(major, minor) : null;
    }
}

/// <summary>What a node says it speaks: the protocol version, its release, and the features it has.</summary>
public sealed record SpokenProtocol(ProtocolVersion Protocol, string Software, IReadOnlySet<string> Capabilities)
{
    public bool Has(string capability) => Capabilities.Contains(capability);
}

/// <summary>
/// The protocol's versions and capabilities, and the rule between two nodes: the same
/// major version talks, using only what both advertise; a different major is refused with
/// both versions named (docs/protocol.md "Compatibility").
/// </summary>
public static class Protocol
{
    /// <summary>
    /// What this build speaks. 1.0 was 0.1.0's, which advertised nothing; 1.1 adds the
    /// exchange of versions and capabilities itself.
    /// </summary>
    public static readonly ProtocolVersion Current = new(1, 1);

    /// <summary>What a peer that advertises nothing speaks: releases before the exchange (0.1.0).</summary>
    public static readonly ProtocolVersion Unadvertised = new(1, 0);

    /// <summary>The named features a node may advertise. A feature is used with a peer only when both have it.</summary>
    public static class Capabilities
    {
        /// <summary>Exchanges versions and capabilities at peering and on every call (protocol 1.1).</summary>
        public const string PeerVersions = "peer-versions";

        /// <summary>Verifies and makes ECDSA P-256 / SHA-256 signatures, the algorithm every release so far signs with.</summary>
        public const string SignaturesEcdsaP256 = "signatures.ecdsa-p256";

        /// <summary>
        /// Verifies Ed25519 signatures, each over its kind's prefix (0.2.0, docs/adr/0028): what
        /// a node whose node key is Ed25519 signs goes only to a peer that has it; for one that
        /// has not, it waits.
        /// </summary>
        public const string SignaturesEd25519 = "signatures.ed25519";

        /// <summary>
        /// Signs every peer call over a SHA-256 of its request body and a unique call id, and
        /// refuses a call id seen within the clock window (protocol 1.1; docs/protocol.md "Call signature").
        /// </summary>
        public const string BodyBoundCalls = "calls.body-bound";

        /// <summary>
        /// Takes a report-back whose content reaches the issuer only (issue 15 #9): as the
        /// issuer it keeps the content and logs only "withheld"; as a recipient it accepts a
        /// withheld response. An unshared report-back, and a withheld response, go only to a
        /// peer that has it; for one that has not, they wait (<see cref="CapabilityNeeded(SubmissionPayload)"/>).
        /// </summary>
        public const string WithheldReportBacks = "responses.withheld";

        /// <summary>
        /// Imports signed bundles and answers with a signed acknowledgement (issue 18,
        /// docs/adr/0023): a bundle is made only for a peer that has it, or whose release is not known.
        /// </summary>
        public const string Bundles = "bundles";

        /// <summary>
        /// Relays through a mutual peer (issue 18 #2, docs/adr/0027): says in Hello which relays
        /// it allows and the key to seal parcels to, carries parcels for peers (RelayPut,
        /// RelayCollect) and opens those carried to it (RelayDeliver). A parcel goes through a
        /// relay only when the source, the relay and the recipient all have it.
        /// </summary>
        public const string Relay = "relay";

        /// <summary>
        /// Takes a call-out whose signed payload names its audience by a digest and a count,
        /// not by every node id (issue 20 #3, docs/adr/0030). A call-out is published that way
        /// only when every recipient has it; its publication goes only to a peer that has it.
        /// </summary>
        public const string AudienceDigest = "audience.digest";
    }

    /// <summary>The capabilities this build advertises.</summary>
    public static readonly IReadOnlySet<string> ThisBuild = new SortedSet<string>(StringComparer.Ordinal)
    {
        Capabilities.PeerVersions,
        Capabilities.SignaturesEcdsaP256,
        Capabilities.SignaturesEd25519,
        Capabilities.BodyBoundCalls,
        Capabilities.WithheldReportBacks,
        Capabilities.Bundles,
        Capabilities.Relay,
        Capabilities.AudienceDigest,
    };

    /// <summary>
    /// The capability a peer must have to be sent this submission, or null. An unshared
    /// report-back sent to an issuer without <see cref="Capabilities.WithheldReportBacks"/>
    /// would be put, content and all, in the call-out's shared log for every recipient.
    /// </summary>
    public static string? CapabilityNeeded(SubmissionPayload submission) =>
        submission.KindCase == SubmissionPayload.KindOneofCase.CallOutResponse
        && submission.CallOutResponse.Kind == ResponseKind.ReportBack
        && !submission.CallOutResponse.ShareWithRecipients
            ? Capabilities.WithheldReportBacks
            : null;

    /// <summary>
    /// The capability a peer must have to be sent this event, or null. A withheld response
    /// carries no report, which a release without <see cref="Capabilities.WithheldReportBacks"/>
    /// refuses as an incomplete report-back.
    /// </summary>
    public static string? CapabilityNeeded(EventBody body) => body.KindCase switch
    {
        EventBody.KindOneofCase.CallOutResponded when body.CallOutResponded.Response?.Withheld == true => Capabilities.WithheldReportBacks,
        // A release without it refuses a publication that lists no recipient.
        EventBody.KindOneofCase.CallOutPublished when !body.CallOutPublished.RecipientsDigest.IsEmpty => Capabilities.AudienceDigest,
        _ => null,
    };

    /// <summary>
    /// Whether a peer's stored protocol is a release before the exchange (protocol 1.0, no
    /// peer-versions): the only peers that are sent, and may send, calls signed the old way.
    /// A peer of which nothing is stored is not one: it is called the new way.
    /// </summary>
    public static bool IsBeforeExchange(string storedProtocol, IEnumerable<string> storedCapabilities) =>
        ProtocolVersion.Parse(storedProtocol) == Unadvertised && !storedCapabilities.Contains(Capabilities.PeerVersions);

    /// <summary>The most capabilities, and the longest name, a peer's advertisement may carry.</summary>
    public const int MaxCapabilities = 64;
    public const int MaxCapabilityLength = 64;

    /// <summary>A peer that advertised nothing: a release before the exchange.</summary>
    public static SpokenProtocol Legacy(string software = "") => new(Unadvertised, software, new HashSet<string>(StringComparer.Ordinal));

    /// <summary>
    /// Refuses talking across major versions, naming both so each operator sees which side
    /// must move. The refusal is marked as the protocol's (<see cref="Rules.ProtocolVersion"/>):
    /// what waits for that peer stays queued, it is not given up as a dead letter.
    /// </summary>
    public static void RequireSameMajor(ProtocolVersion ours, ProtocolVersion theirs, string whoTheyAre)
    {
        if (ours.Major != theirs.Major)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.ProtocolVersion,
                $"This node speaks federation protocol {ours}; {whoTheyAre} speaks {theirs}. Nodes talk only within one major version: "
                + $"the node on the older one must upgrade. Nothing was exchanged; what waits for it stays queued.");
        }
    }

    private static bool IsCapabilityName(string name) =>
        name.Length is > 0 and <= MaxCapabilityLength && name.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '-');

    /// <summary>Checks an advertisement from a peer: a protocol version, and capability names of a sane size.</summary>
    public static SpokenProtocol Read(string protocol, string software, IEnumerable<string> capabilities)
    {
        if (protocol.Length == 0)
        {
            return Legacy(software);
        }
        var version = ProtocolVersion.Parse(protocol)
            ?? throw RuleViolation.Invalid("The advertised protocol version is not MAJOR.MINOR (e.g. 1.1).");
        Text.Check("software version", software, Text.ShortMax);
        var names = capabilities.ToList();
        if (names.Count > MaxCapabilities || !names.All(IsCapabilityName))
        {
            throw RuleViolation.Invalid($"A node advertises at most {MaxCapabilities} capabilities, each a name of 1 to {MaxCapabilityLength} "
                + "lower-case letters, digits, dots and hyphens.");
        }
        return new SpokenProtocol(version, software, new HashSet<string>(names, StringComparer.Ordinal));
    }
}
