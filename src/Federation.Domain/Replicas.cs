namespace Federation.Domain;

/// <summary>Rules for the copies a node keeps of other networks' objects.</summary>
public static class Replicas
{
    /// <summary>
    /// A node keeps copies of other origins' logs, never of its own: its own objects are
    /// written only by itself. Checked before a received batch is verified (this node's own
    /// key is not among its pinned peer keys, so verifying would refuse it as "not a peer",
    /// telling the operator to add itself) and again where the copy would be stored.
    /// </summary>
    public static void RequireOthers(string objectId, string self)
    {
        if (Identifiers.TryOriginOf(objectId, out var origin) && origin == self)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.OwnLog,
                $"Envelope for {Identifiers.Truncate(objectId)} refused: this node originates that object and accepts no copies of its own log.");
        }
    }

    /// <summary>
    /// The one exception: a network on a new server with no backup takes its own objects back
    /// from its peers' copies (issue 16 #4), each event signed by its own network's keys.
    /// </summary>
    public static void RequireOwn(string objectId, string self)
    {
        if (!Identifiers.TryOriginOf(objectId, out var origin) || origin != self)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.OriginAuthority,
                $"Envelope for {Identifiers.Truncate(objectId)} refused: recovering, a node takes back only the objects it originated.");
        }
    }

    public static void Require(string objectId, string self, bool own)
    {
        if (own)
        {
            RequireOwn(objectId, self);
        }
        else
        {
            RequireOthers(objectId, self);
        }
    }
}
