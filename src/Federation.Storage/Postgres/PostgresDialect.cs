namespace Federation.Storage;

/// <summary>
/// PostgreSQL's SQL: several replicas write at once, so a write locks what it
/// read-modify-writes (and <see cref="PostgresGroupCommit"/> runs again a write that lost a race).
/// </summary>
internal sealed class PostgresDialect : SqlDialect
{
    public static readonly PostgresDialect Instance = new();

    // A concurrent append to the same object (from this replica or another) waits here and
    // then reads the state this one committed, so sequence numbers stay gap-free and unique.
    public override string LockRowForUpdate => " FOR UPDATE";

    // Outbox ids come from a sequence when the row is inserted, but transactions commit in
    // any order: without this, id 11 could be delivered and the cursor moved past 10 before
    // 10 commits, and 10 would never be sent. Writers to one peer's queue take turns (the
    // lock is held until commit), so its ids become visible in order.
    public override string? LockPeerOutbox { get; } =
        $"SELECT pg_advisory_xact_lock({PostgresSchema.OutboxLockSpace}, hashtext(@p))";

    // Each statement is a round trip to the server; a submission's seven statements and its savepoint's two now take four.
    public override bool BatchesWrites => true;

    public override string Greatest(string a, string b) => $"GREATEST({a}, {b})";
}
