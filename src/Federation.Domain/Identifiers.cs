using System.Security.Cryptography;

namespace Federation.Domain;

/// <summary>
/// Node and object identifiers. A node id is derived from its public key, and an
/// object id starts with its origin's node id, so who may write an object's log can
/// be read from the id itself: a participant cannot mint an id that names it origin
/// of someone else's fight.
/// </summary>
public static class Identifiers
{
    /// <summary>32 lower-case hex characters: the first 16 bytes of SHA-256 over the key's SubjectPublicKeyInfo.</summary>
    public static string NodeIdFromPublicKey(ReadOnlySpan<byte> subjectPublicKeyInfo) => Contracts.NetworkKey.IdOf(subjectPublicKeyInfo);

    /// <summary>The node id grouped in fours, for operators to read aloud and compare.</summary>
    public static string Fingerprint(string nodeId) => Contracts.NetworkKey.FingerprintOf(nodeId);

    /// <summary>
    /// How a network is identified wherever space is short: the first 64 bits of its
    /// fingerprint (16 hex digits). 32 bits can be matched by a made-up key in minutes on
    /// one machine; 64 bits cannot, so a look-alike node is not mistaken for a peer.
    /// </summary>
    public static string ShortFingerprint(string nodeId) =>
        IsNodeId(nodeId) ? Fingerprint(nodeId)[..19] : Truncate(nodeId);

    /// <summary>Accepts a fingerprint as people type it (any case, with or without dashes or spaces).</summary>
    public static string NodeIdFromFingerprint(string fingerprint)
    {
        var id = new string(fingerprint.Where(c => c != '-' && c != ' ' && c != ':').ToArray()).ToLowerInvariant();
        if (!IsNodeId(id))
        {
            throw RuleViolation.Invalid($"'{fingerprint}' is not a node fingerprint: expected 32 hex digits, as shown by the other node at start-up.");
        }
        return id;
    }

    public static bool IsNodeId(string value) =>
        value.Length == 32 && value.All(char.IsAsciiHexDigitLower);

    public static string NewObjectId(string originNodeId) => $"{originNodeId}.{Guid.NewGuid():N}";

    /// <summary>The origin named in an object id, or a refusal if the id is malformed.</summary>
    public static string OriginOf(string objectId)
    {
        var dot = objectId.IndexOf('.');
        if (dot != 32 || !IsNodeId(objectId[..dot]) || objectId.Length != 65 || !objectId[(dot + 1)..].All(char.IsAsciiHexDigitLower))
        {
            throw RuleViolation.Invalid($"'{Truncate(objectId)}' is not an object id (expected <origin node id>.<32 hex digits>).");
        }
        return objectId[..dot];
    }

    public static bool TryOriginOf(string objectId, out string origin)
    {
        try
        {
            origin = OriginOf(objectId);
            return true;
        }
        catch (RuleViolation)
        {
            origin = "";
            return false;
        }
    }

    public static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
