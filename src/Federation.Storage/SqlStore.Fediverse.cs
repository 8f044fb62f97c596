using System.Data.Common;
using System.Text;
using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>Reads of the fediverse actor's state (issue 19).</summary>
public abstract partial class SqlStore
{
    public IReadOnlyList<FediverseFollower> FediverseFollowers() => Read(tx => tx.FediverseFollowersIn());

    public IReadOnlyList<PublicCallOutRow> PublicCallOuts() => Query(
        "SELECT call_out_id, since FROM fediverse_call_outs ORDER BY since DESC, call_out_id",
        r => new PublicCallOutRow(r.GetString(0), r.Time(1)));

    public string? FediverseKey() =>
        Query("SELECT private_pem FROM fediverse_key WHERE id = 1", r => r.GetString(0)) is [var pem] ? pem : null;

    public IReadOnlyList<FediverseDelivery> DueFediverseDeliveries(DateTimeOffset now, int limit) => Query("""
        SELECT f.id, f.host, f.inbox, f.body, f.attempts, f.last_error, f.created_at FROM fediverse_outbox f
        WHERE f.dead = 0 AND f.next_attempt_at <= @now AND f.lease_until <= @now
          AND f.id = (SELECT MIN(g.id) FROM fediverse_outbox g WHERE g.host = f.host AND g.dead = 0)
        ORDER BY f.id LIMIT @l
        """, ReadDelivery, ("@now", now.ToUnixTimeMilliseconds()), ("@l", limit));

    public IReadOnlyList<FediverseDelivery> FediverseDeadLetters() => Query(
        "SELECT id, host, inbox, body, attempts, last_error, created_at FROM fediverse_outbox WHERE dead = 1 ORDER BY id",
        ReadDelivery);

    public long PendingFediverseDeliveries() => Scalar("SELECT COUNT(*) FROM fediverse_outbox WHERE dead = 0");

    private static FediverseDelivery ReadDelivery(DbDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2),
        Encoding.UTF8.GetBytes(r.GetString(3)), r.GetInt32(4), r.StringOrNull(5), r.Time(6));
}
