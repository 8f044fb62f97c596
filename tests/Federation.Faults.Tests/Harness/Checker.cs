using Federation.Contracts;
using System.Data.Common;
using System.Security.Cryptography;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Domain;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// Counts, per event id, across every node of a federation, reading each node's database
/// (the nodes are other processes; SQLite or PostgreSQL, see <see cref="FaultNode.OpenDatabase"/>):
/// <list type="bullet">
/// <item><b>lost</b>: an event its origin committed (so acknowledged to its author) that a
/// node in the object's audience lacks; a change a node acknowledged that its own log
/// lacks; a submission a node acknowledged that the origin never recorded.</item>
/// <item><b>applied twice</b>: an event id stored twice at a node (the events table's
/// UNIQUE(event_id) forbids it, so this also counts the symptoms a double apply would
/// leave: a folded state that differs from the origin's although every event is there).</item>
/// <item><b>unexpected</b>: an event at a node that its origin does not hold under that
/// id and sequence, or whose signature does not verify against its origin's key.</item>
/// <item><b>gaps</b>: a per-object sequence at a node that is not 1..n without holes.</item>
/// </list>
/// And what must drain once the federation is healed: outbox rows, held (out of order)
/// events, dead letters (a fault is never a reason to park an item for good).
/// </summary>
public static class Checker
{
    public sealed record Result(int Events, int Lost, int AppliedTwice, int Unexpected, int Gaps, long Outbox, long Held, long DeadLetters, string Details)
    {
        /// <summary>Nothing lost, nothing twice, nothing unexpected, no gap.</summary>
        public bool Correct => Lost == 0 && AppliedTwice == 0 && Unexpected == 0 && Gaps == 0;

        /// <summary>Correct, and no backlog left anywhere.</summary>
        public bool Converged => Correct && Outbox == 0 && Held == 0 && DeadLetters == 0;

        public override string ToString() =>
            $"{Events} events: lost {Lost}, applied twice {AppliedTwice}, unexpected {Unexpected}, gaps {Gaps}; "
            + $"outbox {Outbox}, held {Held}, dead letters {DeadLetters}{Details}";
    }

    private sealed record Event(string ObjectId, long Sequence, string EventId, byte[] Payload, byte[] Signature, byte[]? Signer);

    private sealed record Obj(ObjectKind Kind, string Origin, long LastSequence, byte[] State);

    private sealed class Db
    {
        public required FaultNode Node { get; init; }
        public required List<Event> Events { get; init; }
        public required Dictionary<string, Obj> Objects { get; init; }
        public required Dictionary<string, byte[]> PeerKeys { get; init; }
        public required HashSet<string> Submissions { get; init; }
        public required List<(string Network, string Key, DateTimeOffset Since)> Revocations { get; init; }
        public long Outbox { get; init; }
        public long Held { get; init; }
        public long DeadLetters { get; init; }
        public required List<string> DeadLetterErrors { get; init; }
    }

    public static Result Check(IReadOnlyList<FaultNode> nodes, Workload? workload = null)
    {
        var dbs = nodes.Select(Read).ToList();
        var byId = dbs.ToDictionary(d => d.Node.NodeId);
        var keys = new Dictionary<string, VerifyingKey>();
        foreach (var d in dbs)
        {
            foreach (var (id, key) in d.PeerKeys)
            {
                if (!keys.ContainsKey(id))
                {
                    keys[id] = VerifyingKey.Import(key);
                }
            }
        }
        // What each network revoked (issue 16 #3): a key's signature from that time on is not its network's.
        var revoked = dbs.SelectMany(d => d.Revocations).GroupBy(r => (r.Network, r.Key)).ToDictionary(g => g.Key, g => g.Min(r => r.Since));
        var eventIndex = dbs.ToDictionary(d => d.Node.NodeId, d => d.Events.DistinctBy(e => e.EventId).ToDictionary(e => e.EventId, e => (e.ObjectId, e.Sequence)));
        var idsByObject = dbs.ToDictionary(d => d.Node.NodeId,
            d => d.Events.GroupBy(e => e.ObjectId).ToDictionary(g => g.Key, g => g.Select(e => e.EventId).ToHashSet()));
        var notes = new List<string>();
        int lost = 0, twice = 0, unexpected = 0, gaps = 0;
        void Note(string s)
        {
            if (notes.Count < 8)
            {
                notes.Add(s);
            }
        }

        foreach (var d in dbs)
        {
            // Applied twice, literally: the same event id stored more than once.
            foreach (var g in d.Events.GroupBy(e => e.EventId).Where(g => g.Count() > 1))
            {
                twice++;
                Note($"{d.Node.Name} stores event {g.Key} {g.Count()} times");
            }
            // Gap-free sequences, and last_seq agrees with the events held.
            foreach (var g in d.Events.GroupBy(e => e.ObjectId))
            {
                var seqs = g.Select(e => e.Sequence).Order().ToList();
                var last = d.Objects.TryGetValue(g.Key, out var o) ? o.LastSequence : -1;
                if (seqs[0] != 1 || seqs[^1] != seqs.Count || last != seqs.Count)
                {
                    gaps++;
                    Note($"{d.Node.Name}: {g.Key} holds sequences {seqs[0]}..{seqs[^1]} ({seqs.Count} events), last_seq {last}");
                }
            }
            // Unexpected: not what the origin holds, or not signed by it.
            foreach (var e in d.Events)
            {
                var originId = Identifiers.TryOriginOf(e.ObjectId, out var o) ? o : "";
                if (originId == d.Node.NodeId)
                {
                    continue;
                }
                if (!eventIndex.TryGetValue(originId, out var atOrigin)
                    || !atOrigin.TryGetValue(e.EventId, out var there) || there != (e.ObjectId, e.Sequence))
                {
                    unexpected++;
                    Note($"{d.Node.Name} holds {e.ObjectId}#{e.Sequence} ({e.EventId}) that its origin does not");
                }
                else if ((e.Signer is null ? WhyNotSignedByNetworkKey(originId, e, keys) : WhyNotCertified(originId, e, revoked)) is { } why)
                {
                    unexpected++;
                    Note($"{d.Node.Name} holds {e.ObjectId}#{e.Sequence} not signed by its origin: {why}");
                }
            }
        }

        // Lost: every event an origin committed, at every node in the object's audience.
        var total = 0;
        foreach (var origin in dbs)
        {
            var eventsByObject = origin.Events.GroupBy(e => e.ObjectId).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var (objectId, obj) in origin.Objects.Where(o => o.Value.Origin == origin.Node.NodeId))
            {
                var mine = eventsByObject.GetValueOrDefault(objectId) ?? [];
                total += mine.Count;
                var state = StateCodec.Parse(obj.Kind, obj.State);
                // What every member folds from the signed events: the origin's state but for what only it keeps.
                var asMembersHoldIt = Google.Protobuf.MessageExtensions.ToByteArray(EventLog.AsOthersHoldIt(state));
                foreach (var member in Audience.Of(state).Where(m => m != origin.Node.NodeId))
                {
                    if (!byId.TryGetValue(member, out var replica))
                    {
                        continue;
                    }
                    var held = idsByObject[member].GetValueOrDefault(objectId) ?? [];
                    var missing = mine.Count(e => !held.Contains(e.EventId));
                    if (missing > 0)
                    {
                        lost += missing;
                        Note($"{replica.Node.Name} lacks {missing} of {mine.Count} events of {objectId} (origin {origin.Node.Name})");
                    }
                    else if (!replica.Objects.TryGetValue(objectId, out var copy) || copy.LastSequence != obj.LastSequence
                        || !copy.State.AsSpan().SequenceEqual(asMembersHoldIt))
                    {
                        // Every event is there once, yet the folded state differs: something was applied twice (or skipped).
                        twice++;
                        Note($"{replica.Node.Name}: state of {objectId} differs from its origin's");
                    }
                }
            }
        }

        if (workload is not null)
        {
            // An acknowledged change is in its origin's log, up to the sequence it was given.
            foreach (var a in workload.AckedChanges)
            {
                var origin = dbs.First(d => d.Node.Name == a.Node);
                var held = origin.Events.Count(e => e.ObjectId == a.ObjectId && e.Sequence <= (long)a.Sequence);
                if (held < (long)a.Sequence)
                {
                    lost++;
                    Note($"{a.Node} acknowledged {a.What} ({a.ObjectId}#{a.Sequence}) and its log lacks it");
                }
            }
            // An acknowledged submission is recorded by the object's origin.
            foreach (var s in workload.AckedSubmissions)
            {
                var originId = Identifiers.OriginOf(s.ObjectId);
                if (byId.TryGetValue(originId, out var origin) && !origin.Submissions.Contains(s.SubmissionId))
                {
                    lost++;
                    Note($"{nodes[s.Submitter].Name} acknowledged a {s.What} on {s.ObjectId} that its origin {origin.Node.Name} has not recorded");
                }
            }
        }

        foreach (var e in dbs.SelectMany(d => d.DeadLetterErrors))
        {
            Note(e);
        }
        return new Result(total, lost, twice, unexpected, gaps,
            dbs.Sum(d => d.Outbox), dbs.Sum(d => d.Held), dbs.Sum(d => d.DeadLetters),
            notes.Count == 0 ? "" : "\n  " + string.Join("\n  ", notes));
    }

    private static string? WhyNotSignedByNetworkKey(string originId, Event e, Dictionary<string, VerifyingKey> keys) =>
        keys.TryGetValue(originId, out var key) && key.Verify(SignedKind.Event, e.Payload, e.Signature)
            ? null : "its signature does not verify against the network's key";

    /// <summary>
    /// Why an event signed by a certified node key (docs/adr/0022) is not its origin network's
    /// word, or null when it is: the certificate must be signed by that network's key, the
    /// node key it names must have made the signature, and no revocation of that key may
    /// date from before the event.
    /// </summary>
    private static string? WhyNotCertified(string originId, Event e, Dictionary<(string, string), DateTimeOffset> revoked)
    {
        CheckedCertificate certificate;
        try
        {
            certificate = NetworkSignatures.Check(CertifiedKey.Parser.ParseFrom(e.Signer));
        }
        catch (Exception ex) when (ex is InvalidKeyCertificateException or Google.Protobuf.InvalidProtocolBufferException)
        {
            return $"{e.ObjectId}#{e.Sequence}: {ex.Message}";
        }
        if (certificate.NetworkId != originId)
        {
            return $"{e.ObjectId}#{e.Sequence}: certified for another network";
        }
        if (!PeerKeys.VerifyWith(certificate.NodePublicKey, SignedKind.Event, e.Payload, e.Signature))
        {
            return $"{e.ObjectId}#{e.Sequence}: signature does not verify against its certified node key";
        }
        var at = EventPayload.Parser.ParseFrom(e.Payload).OccurredAt is { } t ? t.ToDateTimeOffset() : DateTimeOffset.MinValue;
        return revoked.TryGetValue((originId, certificate.KeyId), out var since) && at >= since
            ? $"{e.ObjectId}#{e.Sequence}: signed at {at:u} by node key {certificate.KeyId}, revoked since {since:u}"
            : null;
    }

    // One unlocked storage key per sealed node's folder: an Argon2id derivation is too slow for every check.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Federation.Core.Sealing.StorageVault> Vaults = new();

    /// <summary>
    /// A participants-only event's payload as its origin signed it: a node with a storage key
    /// rests it sealed (docs/adr/0025), and the checker holds the passphrase, as an operator does.
    /// </summary>
    private static byte[] Opened(FaultNode node, byte[] payload)
    {
        if (!Federation.Core.Sealing.StorageVault.IsSealed(payload))
        {
            return payload;
        }
        var vault = Vaults.GetOrAdd(node.DataDir, dir =>
        {
            var v = new Federation.Core.Sealing.StorageVault(dir);
            v.Unlock(FaultNode.StoragePassphrase);
            return v;
        });
        return vault.Open(payload);
    }

    private static Db Read(FaultNode node)
    {
        using var c = node.OpenDatabase();
        // One snapshot: a consistent view of this node's database.
        using var tx = node.BeginSnapshot(c);
        var events = new List<Event>();
        using (var r = Query(c, tx, "SELECT object_id, seq, event_id, payload, signature, signer FROM events"))
        {
            while (r.Read())
            {
                events.Add(new Event(r.GetString(0), Convert.ToInt64(r.GetValue(1)), r.GetString(2), Opened(node, (byte[])r[3]), (byte[])r[4],
                    r.IsDBNull(5) ? null : (byte[])r[5]));
            }
        }
        var objects = new Dictionary<string, Obj>();
        using (var r = Query(c, tx, "SELECT object_id, kind, origin, last_seq, state FROM objects WHERE last_seq > 0"))
        {
            while (r.Read())
            {
                objects[r.GetString(0)] = new Obj((ObjectKind)Convert.ToInt32(r.GetValue(1)), r.GetString(2), Convert.ToInt64(r.GetValue(3)), (byte[])r[4]);
            }
        }
        var keys = new Dictionary<string, byte[]>();
        using (var r = Query(c, tx, "SELECT node_id, public_key FROM peers"))
        {
            while (r.Read())
            {
                keys[r.GetString(0)] = (byte[])r[1];
            }
        }
        // Why items were parked: a fault must never be the reason, so the refusal says what was.
        var parked = new List<string>();
        using (var r = Query(c, tx, "SELECT object_id, error FROM dead_letters ORDER BY id LIMIT 4"))
        {
            while (r.Read())
            {
                parked.Add($"{node.Name} parked an item of {r.GetString(0)}: {r.GetString(1)}");
            }
        }
        var submissions = new HashSet<string>();
        using (var r = Query(c, tx, "SELECT submission_id FROM submissions"))
        {
            while (r.Read())
            {
                submissions.Add(r.GetString(0));
            }
        }
        var revocations = new List<(string, string, DateTimeOffset)>();
        using (var r = Query(c, tx, "SELECT network_id, key_id, compromised_since FROM key_revocations"))
        {
            while (r.Read())
            {
                revocations.Add((r.GetString(0), r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(2)))));
            }
        }
        return new Db
        {
            Revocations = revocations,
            Node = node,
            Events = events,
            Objects = objects,
            PeerKeys = keys,
            Submissions = submissions,
            Outbox = Scalar(c, tx, "SELECT COUNT(*) FROM outbox"),
            Held = Scalar(c, tx, "SELECT COUNT(*) FROM held_events"),
            DeadLetters = Scalar(c, tx, "SELECT COUNT(*) FROM dead_letters"),
            DeadLetterErrors = parked,
        };
    }

    private static DbDataReader Query(DbConnection c, DbTransaction tx, string sql) =>
        // Not disposed here: disposing a SqliteCommand finalises its statement under the open reader.
        Sql.Command(c, tx, sql).ExecuteReader();

    private static long Scalar(DbConnection c, DbTransaction tx, string sql)
    {
        using var cmd = Sql.Command(c, tx, sql);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }
}
