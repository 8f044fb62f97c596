namespace Federation.Storage;

/// <summary>SQLite's SQL: one writer at a time (<see cref="SqliteGroupCommit"/>), so it locks nothing.</summary>
internal sealed class SqliteDialect : SqlDialect
{
    public static readonly SqliteDialect Instance = new();

    public override string LockRowForUpdate => "";

    public override string? LockPeerOutbox => null;

    // In-process: a statement costs no round trip.
    public override bool BatchesWrites => false;

    public override string Greatest(string a, string b) => $"MAX({a}, {b})";
}
