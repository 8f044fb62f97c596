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
}
