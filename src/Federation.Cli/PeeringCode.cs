using Federation.Contracts.V1;

namespace Federation.Cli;

/// <summary>
/// A node's address and fingerprint in one line, FINGERPRINT@ADDRESS, so an operator can
/// send one string to the other instead of reading out two. It carries nothing secret:
/// peering still needs both operators to add each other, and the fingerprint still pins the key.
/// </summary>
public static class PeeringCode
{
    public static string For(NodeInfo node) => $"{node.Fingerprint}@{node.Address}";

    /// <summary>`peer add ADDRESS FINGERPRINT` or `peer add CODE`.</summary>
    public static (string Address, string Fingerprint) Parse(string addressOrCode, string? fingerprint)
    {
        if (fingerprint is { Length: > 0 })
        {
            return (addressOrCode, fingerprint);
        }
        var at = addressOrCode.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || !addressOrCode[(at + 1)..].Contains("://", StringComparison.Ordinal))
        {
            throw new UsageException($"'{addressOrCode}' is not a peering code (FINGERPRINT@ADDRESS). Give the other node's ADDRESS and FINGERPRINT, or the code from its `solnet peer code`.");
        }
        return (addressOrCode[(at + 1)..], addressOrCode[..at]);
    }

    /// <summary>A fingerprint or node id as the node stores it: 32 lower-case hex digits.</summary>
    public static string Id(string fingerprint) =>
        new string(fingerprint.Where(c => c is not ('-' or ' ' or ':')).ToArray()).ToLowerInvariant();
}
