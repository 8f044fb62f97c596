using Federation.Core.Storage;
using static Federation.Storage.SqlRows;

namespace Federation.Storage;

/// <summary>Writes of relaying (issue 18 #2, docs/adr/0027).</summary>
internal sealed partial class SqlStoreTransaction
{
    public IReadOnlySet<string> RelayAllowedIn() =>
        Query("SELECT peer_id FROM relay_allowed", r => r.GetString(0)).ToHashSet(StringComparer.Ordinal);

    public void SetRelayAllowed(string peerId, bool allowed)
    {
        if (allowed)
        {
            Execute("INSERT INTO relay_allowed (peer_id, since) VALUES (@p, @t) ON CONFLICT DO NOTHING", ("@p", peerId), ("@t", Now));
        }
        else
        {
            Execute("DELETE FROM relay_allowed WHERE peer_id = @p", ("@p", peerId));
        }
    }

    public void SetPeerRelayOffer(PeerRelayOffer offer) => Execute("""
        INSERT INTO peer_relay_offers (node_id, relays, sealing_key, seen_at) VALUES (@n, @r, @k, @t)
        ON CONFLICT (node_id) DO UPDATE SET relays = excluded.relays, sealing_key = excluded.sealing_key, seen_at = excluded.seen_at
        """, ("@n", offer.NodeId), ("@r", string.Join(' ', offer.AllowedRelays)), ("@k", offer.SealingKey), ("@t", offer.SeenAt.ToUnixTimeMilliseconds()));

    public long RelayHeldBytes(string source) => Convert.ToInt64(
        Scalar("SELECT COALESCE(SUM(size), 0) FROM relay_parcels WHERE source = @s AND parcel IS NOT NULL", ("@s", source)));

    public bool PutRelayParcel(string parcelId, string source, string recipient, byte[] parcel, DateTimeOffset expiresAt) => Execute("""
        INSERT INTO relay_parcels (parcel_id, source, recipient, parcel, size, expires_at, received_at) VALUES (@id, @s, @r, @p, @n, @e, @t)
        ON CONFLICT (parcel_id) DO NOTHING
        """, ("@id", parcelId), ("@s", source), ("@r", recipient), ("@p", parcel), ("@n", (long)parcel.Length),
        ("@e", expiresAt.ToUnixTimeMilliseconds()), ("@t", Now)) == 1;

    public void RelayParcelTaken(string parcelId, byte[] receipt) => Execute(
        "UPDATE relay_parcels SET parcel = NULL, size = 0, receipt = @r, last_error = NULL WHERE parcel_id = @id",
        ("@id", parcelId), ("@r", receipt));

    public void RelayParcelFailed(string parcelId, DateTimeOffset nextAttemptAt, string error) => Execute(
        "UPDATE relay_parcels SET attempts = attempts + 1, next_attempt_at = @n, last_error = @e WHERE parcel_id = @id",
        ("@id", parcelId), ("@n", nextAttemptAt.ToUnixTimeMilliseconds()), ("@e", error));

    public bool DropRelayParcel(string parcelId, string source) =>
        Execute("DELETE FROM relay_parcels WHERE parcel_id = @id AND source = @s", ("@id", parcelId), ("@s", source)) == 1;

    public int DropExpiredRelayParcels(DateTimeOffset now) =>
        Execute("DELETE FROM relay_parcels WHERE expires_at <= @now", ("@now", now.ToUnixTimeMilliseconds()));

    public void SetRelayRoute(RelayRoute route) => Execute("""
        INSERT INTO relay_routes (peer_id, relay_id, sent_at, up_to) VALUES (@p, @r, @t, @u)
        ON CONFLICT (peer_id) DO UPDATE SET relay_id = excluded.relay_id, sent_at = excluded.sent_at, up_to = excluded.up_to
        """, ("@p", route.PeerId), ("@r", route.RelayId), ("@t", route.SentAt.ToUnixTimeMilliseconds()), ("@u", route.UpToOutboxId));

    public void DropRelayRoute(string peerId) => Execute("DELETE FROM relay_routes WHERE peer_id = @p", ("@p", peerId));
}
