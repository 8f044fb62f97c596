using System.Text;
using Federation.Core.Storage;
using static Federation.Storage.SqlRows;

namespace Federation.Storage;

/// <summary>Writes of the fediverse actor's state (issue 19).</summary>
internal sealed partial class SqlStoreTransaction
{
    public IReadOnlyList<FediverseFollower> FediverseFollowersIn() => Query(
        "SELECT actor_id, inbox, shared_inbox, since FROM fediverse_followers ORDER BY since, actor_id",
        r => new FediverseFollower(r.GetString(0), r.GetString(1), r.GetString(2), r.Time(3)));

    public void PutFediverseFollower(FediverseFollower f) => Execute("""
        INSERT INTO fediverse_followers (actor_id, inbox, shared_inbox, since) VALUES (@a, @i, @s, @t)
        ON CONFLICT (actor_id) DO UPDATE SET inbox = excluded.inbox, shared_inbox = excluded.shared_inbox
        """, ("@a", f.ActorId), ("@i", f.Inbox), ("@s", f.SharedInbox), ("@t", f.Since.ToUnixTimeMilliseconds()));

    public bool DeleteFediverseFollower(string actorId) =>
        Execute("DELETE FROM fediverse_followers WHERE actor_id = @a", ("@a", actorId)) == 1;

    public void MarkCallOutPublic(string callOutId) => Execute(
        "INSERT INTO fediverse_call_outs (call_out_id, since) VALUES (@c, @t) ON CONFLICT DO NOTHING", ("@c", callOutId), ("@t", Now));

    public bool IsCallOutPublic(string callOutId) =>
        Scalar("SELECT 1 FROM fediverse_call_outs WHERE call_out_id = @c", ("@c", callOutId)) is not null;

    public bool UnmarkCallOutPublic(string callOutId) =>
        Execute("DELETE FROM fediverse_call_outs WHERE call_out_id = @c", ("@c", callOutId)) == 1;

    public string PutFediverseKeyIfAbsent(string pem)
    {
        Execute("INSERT INTO fediverse_key (id, private_pem) VALUES (1, @p) ON CONFLICT DO NOTHING", ("@p", pem));
        return (string)Scalar("SELECT private_pem FROM fediverse_key WHERE id = 1")!;
    }

    public void EnqueueFediverse(string inbox, string host, byte[] body) => Execute(
        "INSERT INTO fediverse_outbox (host, inbox, body, created_at) VALUES (@h, @i, @b, @t)",
        ("@h", host), ("@i", inbox), ("@b", Encoding.UTF8.GetString(body)), ("@t", Now));

    public bool LeaseFediverseDelivery(long id, DateTimeOffset until) => Execute(
        "UPDATE fediverse_outbox SET lease_until = @u WHERE id = @id AND dead = 0 AND lease_until <= @now",
        ("@id", id), ("@u", until.ToUnixTimeMilliseconds()), ("@now", Now)) == 1;

    public void FediverseDelivered(long id) => Execute("DELETE FROM fediverse_outbox WHERE id = @id", ("@id", id));

    public void FediverseFailed(long id, DateTimeOffset nextAttempt, string error, bool dead) => Execute("""
        UPDATE fediverse_outbox SET attempts = attempts + 1, next_attempt_at = @n, last_error = @e, dead = @d, lease_until = 0
        WHERE id = @id
        """, ("@id", id), ("@n", nextAttempt.ToUnixTimeMilliseconds()), ("@e", error), ("@d", dead ? 1 : 0));

    public int DropFediverseDeliveries() => Execute("DELETE FROM fediverse_outbox WHERE dead = 0");
}
