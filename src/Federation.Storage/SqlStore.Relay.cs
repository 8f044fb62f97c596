using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>Reads of relaying (issue 18 #2, docs/adr/0027).</summary>
public abstract partial class SqlStore
{
    public IReadOnlySet<string> RelayAllowed() => Read(tx => tx.RelayAllowedIn());

    public PeerRelayOffer? PeerRelayOfferOf(string nodeId) => Query(
        "SELECT node_id, relays, sealing_key, seen_at FROM peer_relay_offers WHERE node_id = @n",
        r => new PeerRelayOffer(r.GetString(0), r.GetString(1).Split(' ', StringSplitOptions.RemoveEmptyEntries), r.NullableBytes(2), r.Time(3)),
        ("@n", nodeId)) is [var offer] ? offer : null;

    public IReadOnlyList<RelayParcelRow> DueRelayParcels(DateTimeOffset now, int limit) => Query("""
        SELECT parcel_id, source, recipient, parcel, expires_at, attempts FROM relay_parcels
        WHERE parcel IS NOT NULL AND expires_at > @now AND next_attempt_at <= @now
        ORDER BY received_at, parcel_id LIMIT @l
        """, r => new RelayParcelRow(r.GetString(0), r.GetString(1), r.GetString(2), r.Bytes(3), r.Time(4), r.GetInt32(5)),
        ("@now", now.ToUnixTimeMilliseconds()), ("@l", limit));

    public IReadOnlyList<RelayReceiptRow> RelayReceiptsFor(string source) => Query(
        "SELECT parcel_id, source, recipient, receipt FROM relay_parcels WHERE source = @s AND receipt IS NOT NULL ORDER BY received_at, parcel_id",
        r => new RelayReceiptRow(r.GetString(0), r.GetString(1), r.GetString(2), r.Bytes(3)), ("@s", source));

    public IReadOnlyList<RelayHeld> RelayHeldBySource() => Query(
        "SELECT source, COUNT(*), COALESCE(SUM(size), 0) FROM relay_parcels WHERE parcel IS NOT NULL GROUP BY source ORDER BY source",
        r => new RelayHeld(r.GetString(0), Convert.ToInt64(r[1]), Convert.ToInt64(r[2])));

    public IReadOnlyList<RelayRoute> RelayRoutes() => Query(
        "SELECT peer_id, relay_id, sent_at, up_to FROM relay_routes ORDER BY peer_id",
        r => new RelayRoute(r.GetString(0), r.GetString(1), r.Time(2), r.GetInt64(3)));
}
