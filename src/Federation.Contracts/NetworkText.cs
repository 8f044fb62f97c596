namespace Federation.Contracts;

/// <summary>How a network is named to people, the same in solnet and on the dashboard (issue 17, item 6).</summary>
public static class NetworkText
{
    /// <summary>"beta (3f2a-…)", "alpha (this network)", or "network 3f2a-…" for a network this node has not added.</summary>
    public static string Who(string nodeId, string me, string myName, string? peerName, string shortFingerprint) =>
        nodeId.Length > 0 && nodeId == me ? $"{myName} (this network)"
        : peerName is not null ? $"{peerName} ({shortFingerprint})"
        : $"network {shortFingerprint}";
}
