namespace Federation.Storage;

/// <summary>
/// The little that differs in the SQL of the two engines. Everything else — every query and
/// every write — is written once, in <see cref="SqlStore"/> and <see cref="SqlStoreTransaction"/>:
/// both engines take @name parameters, ON CONFLICT upserts, RETURNING, and store times as
/// Unix milliseconds in a 64-bit integer and bytes as BLOB/BYTEA, which ADO.NET reads alike.
/// </summary>
internal abstract class SqlDialect
{
    /// <summary>
    /// Appended to the SELECT of an object's row inside a write, to lock the row until commit;
    /// empty where writers already take turns.
    /// </summary>
    public abstract string LockRowForUpdate { get; }

    /// <summary>
    /// A statement (parameter @p: the peer) that makes writers to one peer's outbox take turns
    /// until commit; null where writers already take turns.
    /// </summary>
    public abstract string? LockPeerOutbox { get; }

    /// <summary>
    /// Whether statements whose result no one reads are held back and sent together, in one
    /// round trip, before the next statement that returns something and at the end of each
    /// write (see <see cref="SqlStoreTransaction"/>): a network database's round trips add up.
    /// </summary>
    public abstract bool BatchesWrites { get; }

    /// <summary>The larger of two values (PostgreSQL's MAX is an aggregate only; SQLite has no GREATEST).</summary>
    public abstract string Greatest(string a, string b);
}
