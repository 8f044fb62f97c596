namespace Federation.Core.Storage;

/// <summary>Reads of delegate tokens (only hashes of their secrets are kept).</summary>
public interface ITokenReads
{
    (TokenRecord Token, byte[] Hash)? FindToken(string id);
    IReadOnlyList<TokenRecord> ListTokens();
}

/// <summary>Writes of delegate tokens.</summary>
public interface ITokenWrites
{
    void InsertToken(TokenRecord t, byte[] hash);
    bool RevokeToken(string id);

    /// <summary>"Sign out everywhere": dashboard sessions of this token begun until now end. False if there is no active token by that id.</summary>
    bool EndTokenSessions(string id);
}

/// <summary>Reads of the audit log.</summary>
public interface IAuditReads
{
    IReadOnlyList<AuditEntry> ListAudit(int limit);
}

/// <summary>Writes of the audit log: an entry, then its outcome once known.</summary>
public interface IAuditWrites
{
    long InsertAudit(string who, string role, string action, string? objectId, string outcome);
    void SetAuditOutcome(long id, string outcome, string? createdObjectId);
}
