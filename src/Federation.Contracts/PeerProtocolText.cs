using Federation.Contracts.V1;

namespace Federation.Contracts;

/// <summary>What a peer speaks in words, the same in solnet and on the dashboard.</summary>
public static class PeerProtocolText
{
    /// <summary>"1.1 (release 0.2.0)", "1.0 (a release before 0.2.0)" for a peer that says nothing, or the refusal when the two cannot talk.</summary>
    public static string Describe(PeerProtocol? p) => p switch
    {
        null => "not heard yet",
        { Refusal.Length: > 0 } => $"CANNOT TALK: {p.Refusal}",
        { SoftwareVersion.Length: 0 } => $"{p.ProtocolVersion} (a release before 0.2.0)",
        _ => $"{p.ProtocolVersion} (release {p.SoftwareVersion})",
    };

    public static string Capabilities(PeerProtocol? p) => p is null ? "" : string.Join(", ", p.Capabilities);
}
