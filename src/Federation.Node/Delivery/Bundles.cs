using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Peers;
using Federation.Core.Sealing;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federation.Node.Delivery;

/// <summary>
/// Bundles (issue 18, docs/adr/0023): what this node owes a peer, written to a signed file
/// for any road when the network is cut, and the import of such a file, which applies its
/// items through the replica path a delivery takes (<see cref="ReplicaLog"/>) and answers
/// with a signed acknowledgement that moves the sender's delivery cursor when imported there.
/// </summary>
public sealed class Bundles(
    IFederationStore store,
    NodeIdentity identity,
    PeerKeys keys,
    ReplicaLog replica,
    Grpc.SignedSubmissions signedSubmissions,
    CapabilityGate gate,
    SealedEnvelopes sealedEnvelopes,
    Peering.NodeKeys nodeKeys,
    SealingKey sealingKey,
    NodeClock clock,
    ILogger<Bundles> log)
{
    /// <summary>
    /// At most this many bytes of items in one bundle: under gRPC's default 4 MiB message, so
    /// the file passes through solnet and back in one call, and it fits an e-mail attachment.
    /// What does not fit goes in the next bundle (the header says the bundle is incomplete).
    /// </summary>
    public const int MaxItemBytes = 3 * 1024 * 1024;

    /// <summary>
    /// At most this many bytes of items in a bundle for a relay (docs/adr/0027): less than a
    /// file's, so that the header (a hash per item) and the parcel around it stay under
    /// <see cref="Relay.RelayDesk.MaxParcelBytes"/> however small the items are.
    /// </summary>
    public const int MaxRelayedItemBytes = 2 * 1024 * 1024;

    /// <summary>How many queued items an export looks at, at most.</summary>
    private const int MaxScanned = 20_000;

    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(14);
    private const uint MaxValidDays = 365;

    /// <summary>Smallest part a set may be split into: below it a header outweighs its items.</summary>
    public const int MinPartBytes = 4 * 1024;

    /// <summary>
    /// What <paramref name="request"/>'s peer is owed, as one bundle of at most
    /// <see cref="MaxItemBytes"/> of items; what does not fit is left for the next one (the
    /// header says <c>incomplete</c>).
    /// </summary>
    public ExportedBundle Export(ExportBundleRequest request)
    {
        if (request.SealedToRecipient)
        {
            return ExportSealed(request);
        }
        var (peer, since, owed) = Owing(request);
        var items = owed.Items.Select(i => i.ToByteArray()).ToList();
        var fits = Fitting(items, MaxItemBytes);
        var incomplete = owed.Incomplete || fits < items.Count;
        var expires = Expires(request);
        return Make(peer, since, owed, owed.Items.Take(fits).ToList(), items.Take(fits).ToList(), owed.Items.Take(fits).ToList(),
            expires, incomplete, setId: "", part: 0, parts: 0);
    }

    /// <summary>
    /// What <paramref name="request"/>'s peer is owed, split into as many parts as it takes,
    /// each a whole bundle of at most <see cref="ExportBundleRequest.PartSize"/> bytes of items
    /// (an item larger than that goes alone in a part), signed on its own and naming its place
    /// in the set: parts go by e-mail as attachments and are imported in any order.
    /// </summary>
    public IReadOnlyList<ExportedBundle> ExportParts(ExportBundleRequest request)
    {
        if (request.SealedToRecipient)
        {
            return [ExportSealed(request)];
        }
        var partSize = request.PartSize == 0 ? MaxItemBytes : (int)Math.Min(request.PartSize, int.MaxValue);
        if (partSize < MinPartBytes || partSize > MaxItemBytes)
        {
            throw RuleViolation.Invalid($"A part may hold from {MinPartBytes:N0} to {MaxItemBytes:N0} bytes of items (3 MiB, so it crosses the node's 4 MiB messages), not {request.PartSize:N0}.");
        }
        var (peer, since, owed) = Owing(request);
        var groups = new List<List<int>>();
        var size = 0;
        var bytes = owed.Items.Select(i => i.ToByteArray()).ToList();
        for (var i = 0; i < bytes.Count; i++)
        {
            if (groups.Count == 0 || (size + bytes[i].Length > partSize && groups[^1].Count > 0))
            {
                groups.Add([]);
                size = 0;
            }
            groups[^1].Add(i);
            size += bytes[i].Length;
        }
        if (groups.Count == 0)
        {
            groups.Add([]); // nothing owed: one empty part says so, signed like any other
        }
        var setId = Guid.NewGuid().ToString();
        var expires = Expires(request);
        return [.. groups.Select((g, k) => Make(peer, since, owed, [.. g.Select(i => owed.Items[i])], [.. g.Select(i => bytes[i])], owed.Items,
            expires, owed.Incomplete, setId, (uint)k + 1, (uint)groups.Count))];
    }

    private (PeerRecord Peer, DateTimeOffset? Since, Owed Owed) Owing(ExportBundleRequest request)
    {
        var peer = Peer(request.Peer);
        if (request.ValidDays > MaxValidDays)
        {
            throw RuleViolation.Invalid($"A bundle may be valid for at most {MaxValidDays} days, not {request.ValidDays}.");
        }
        DateTimeOffset? since = null;
        if (request.Since is { } s)
        {
            since = Dates.IsValid(s) ? s.ToDateTimeOffset() : throw RuleViolation.Invalid("--since is not a valid time.");
        }
        return (peer, since, since is { } from ? Shared(peer, from) : Queued(peer, sealedRoad: false));
    }

    private DateTimeOffset Expires(ExportBundleRequest request) =>
        clock.UtcNow + (request.ValidDays == 0 ? DefaultValidity : TimeSpan.FromDays(request.ValidDays));

    /// <summary>How many of <paramref name="items"/>, from the first, fit in <paramref name="maxBytes"/>.</summary>
    private static int Fitting(List<byte[]> items, int maxBytes)
    {
        var fits = 0;
        for (var size = 0; fits < items.Count && size + items[fits].Length <= maxBytes; fits++)
        {
            size += items[fits].Length;
        }
        return fits;
    }

    /// <summary>
    /// One signed bundle of <paramref name="included"/> (their serialised <paramref name="items"/>);
    /// <paramref name="set"/> is everything exported with it, which says what the recipient
    /// holds before any of it.
    /// </summary>
    private ExportedBundle Make(PeerRecord peer, DateTimeOffset? since, Owed owed, List<BundleItem> included, List<byte[]> items,
        IReadOnlyList<BundleItem> set, DateTimeOffset expires, bool incomplete, string setId, uint part, uint parts)
    {
        var (bundle, header) = Seal(peer, fromQueue: since is null, included, items, set, expires, incomplete, setId, part, parts);
        log.LogInformation("Made bundle {Bundle} for {Peer}{Part}: {Events} events of {Objects} objects, {Submissions} submissions{More}",
            header.BundleId, peer.Name, parts > 0 ? $" (part {part} of {parts} of set {setId})" : "", included.Count(i => i.Envelope is not null), header.Ranges.Count,
            header.SubmissionIds.Count, incomplete ? " (more is owed than it holds)" : "");
        return new ExportedBundle
        {
            Bundle = bundle.ToByteString(),
            BundleId = header.BundleId,
            Items = (uint)items.Count,
            Objects = (uint)header.Ranges.Count,
            ExpiresAt = header.ExpiresAt,
            Incomplete = incomplete,
            LeftOutParticipantsOnly = (uint)owed.ParticipantsOnly,
            Submissions = (uint)header.SubmissionIds.Count,
            LeftOutSubmissions = (uint)owed.LeftOutSubmissions,
            Part = part,
            Parts = parts,
            SetId = setId,
        };
    }

    /// <summary>
    /// What the peer's queue holds after its cursor, every item of it (participants-only ones
    /// and every submission too), as a bundle to be sealed to the peer for a relay to carry
    /// (docs/adr/0027); with the id of the last queued item it holds. Null when nothing is owed.
    /// </summary>
    public (SignedBundle Bundle, long UpTo, int Items)? ForRelay(PeerRecord peer, TimeSpan validity)
    {
        var owed = Queued(peer, sealedRoad: true);
        var bytes = owed.Items.Select(i => i.ToByteArray()).ToList();
        var fits = Fitting(bytes, MaxRelayedItemBytes);
        if (fits == 0)
        {
            return null;
        }
        var included = owed.Items.Take(fits).ToList();
        var (bundle, _) = Seal(peer, fromQueue: true, included, bytes.Take(fits).ToList(), included, clock.UtcNow + validity,
            owed.Incomplete || fits < bytes.Count);
        return (bundle, owed.Ids[fits - 1], fits);
    }

    /// <summary>The first bytes of a sealed bundle file: import tells it from a plain one by them.</summary>
    public static ReadOnlySpan<byte> SealedFileMagic => "solnet sealed bundle 1\n"u8;

    /// <summary>
    /// What the peer's queue holds, every item of it (participants-only ones and every
    /// submission too), sealed to the peer's sealing key as a relay parcel that names no
    /// relay (docs/adr/0027): whoever carries the file reads only who it is from and for.
    /// </summary>
    private ExportedBundle ExportSealed(ExportBundleRequest request)
    {
        if (request.Since is not null || request.PartSize != 0)
        {
            throw RuleViolation.Invalid("A sealed bundle carries what the peer's queue holds, in one file: it takes no --since and no --part-size.");
        }
        var (peer, _, _) = Owing(request);
        if (store.PeerRelayOfferOf(peer.NodeId) is not { SealingKey: { } recipientKey })
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, BundleFormat.Rule,
                $"{peer.Name} has not published a sealing key (it runs a release before 0.2.0, or has not said Hello since): a sealed bundle cannot be made for it. Export without --sealed; participants-only items then wait for the road to open.");
        }
        var owed = Queued(peer, sealedRoad: true);
        var bytes = owed.Items.Select(i => i.ToByteArray()).ToList();
        var fits = Fitting(bytes, MaxRelayedItemBytes);
        var included = owed.Items.Take(fits).ToList();
        var incomplete = owed.Incomplete || fits < bytes.Count;
        var expires = Expires(request);
        var (bundle, header) = Seal(peer, fromQueue: true, included, bytes.Take(fits).ToList(), included, expires, incomplete);
        var parcel = Federation.Core.Relay.RelayFormat.Seal(identity.NodeId, peer.NodeId, relay: "", bundle.ToByteArray(), recipientKey, identity.Current, clock.UtcNow, expires);
        log.LogInformation("Made bundle {Bundle} for {Peer}, sealed to its key: {Items} items{More}",
            header.BundleId, peer.Name, fits, incomplete ? " (more is owed than it holds)" : "");
        return new ExportedBundle
        {
            Bundle = ByteString.CopyFrom([.. SealedFileMagic, .. parcel.ToByteArray()]),
            BundleId = header.BundleId,
            Items = (uint)fits,
            Objects = (uint)header.Ranges.Count,
            ExpiresAt = header.ExpiresAt,
            Incomplete = incomplete,
            Submissions = (uint)header.SubmissionIds.Count,
            SealedToRecipient = true,
        };
    }

    /// <summary>The signed bundle of <paramref name="included"/>, and its header.</summary>
    private (SignedBundle Bundle, BundleHeader Header) Seal(PeerRecord peer, bool fromQueue, List<BundleItem> included, List<byte[]> items,
        IReadOnlyList<BundleItem> set, DateTimeOffset expires, bool incomplete, string setId = "", uint part = 0, uint parts = 0)
    {
        var envelopes = included.Where(i => i.Envelope is not null).Select(i => i.Envelope).ToList();
        // From the queue: everything queued for the peer before the set's first event of an
        // object was acknowledged, and a peer gets an object's log from its start. Since a time: not known.
        var firstInSet = set.Where(i => i.Envelope is not null).GroupBy(i => i.Envelope.ObjectId).ToDictionary(g => g.Key, g => g.Min(i => i.Envelope.Sequence));
        var header = new BundleHeader
        {
            BundleId = Guid.NewGuid().ToString(),
            CarrierNode = identity.NodeId,
            RecipientNode = peer.NodeId,
            MadeAt = Timestamp.FromDateTimeOffset(clock.UtcNow),
            ExpiresAt = Timestamp.FromDateTimeOffset(expires),
            Incomplete = incomplete,
            SetId = setId,
            Part = part,
            Parts = parts,
        };
        header.Ranges.AddRange(envelopes.GroupBy(e => e.ObjectId).Select(g => new BundleRange
        {
            ObjectId = g.Key,
            FirstSequence = g.Min(e => e.Sequence),
            LastSequence = g.Max(e => e.Sequence),
            RecipientHolds = fromQueue ? firstInSet[g.Key] - 1 : 0,
        }));
        header.SubmissionIds.AddRange(included.Where(i => i.Submission is not null)
            .Select(i => SubmissionPayload.Parser.ParseFrom(i.Submission.Payload).SubmissionId));
        header.Revocations.AddRange(nodeKeys.Ours);
        return (BundleFormat.Seal(header, items, identity.Current), header);
    }

    /// <summary>What a peer is owed, as bundle items (with their queue ids, when from the queue), and what was left out.</summary>
    private sealed record Owed(List<BundleItem> Items, bool Incomplete, int ParticipantsOnly, int LeftOutSubmissions, List<long> Ids);

    /// <summary>
    /// What the peer's delivery queue holds after its cursor: exactly what delivery would send
    /// it, so the outbox's audience decisions hold. Left out: participants-only events (a
    /// bundle is signed, not encrypted: there is no per-recipient encryption yet), submissions
    /// whose content is not for every carrier (<see cref="BundleFormat.CarriedInClear"/>), and
    /// what the peer cannot take until it upgrades. On the <paramref name="sealedRoad"/> (a
    /// relay, which carries the bundle sealed to the peer) nothing is left out but the last.
    /// </summary>
    private Owed Queued(PeerRecord peer, bool sealedRoad)
    {
        var loaded = store.LoadBatch(peer.NodeId, MaxScanned, identity.Algorithm);
        var incomplete = loaded.Count == MaxScanned;
        // Opened as delivery opens them (issue 24): what rests sealed is read as signed, and a
        // locked node stops at the first item it cannot open, as its delivery does.
        var batch = sealedEnvelopes.Open(loaded, out var sealedAt);
        incomplete |= sealedAt >= 0;
        if (gate.FirstWaiting(peer.NodeId, batch) is var (index, _))
        {
            batch = batch.Take(index).ToList();
            incomplete = true;
        }
        var items = new List<BundleItem>();
        var ids = new List<long>();
        int participantsOnly = 0, submissions = 0;
        foreach (var item in batch)
        {
            if (item.Kind == OutboxKind.Submission)
            {
                var signed = SignedSubmission.Parser.ParseFrom(item.Body);
                if (sealedRoad || BundleFormat.CarriedInClear(SubmissionPayload.Parser.ParseFrom(signed.Payload)))
                {
                    items.Add(new BundleItem { Submission = signed });
                    ids.Add(item.Id);
                }
                else
                {
                    submissions++;
                    incomplete = true;
                }
                continue;
            }
            var envelope = Envelope.Parser.ParseFrom(item.Body);
            if (!sealedRoad && EventTiers.SealedAtRest(envelope.ObjectKind))
            {
                participantsOnly++;
                incomplete = true;
                continue;
            }
            items.Add(new BundleItem { Envelope = envelope });
            ids.Add(item.Id);
        }
        return new Owed(items, incomplete, participantsOnly, submissions, ids);
    }

    /// <summary>
    /// Every event this node originates, of the objects it shares with the peer (the audience
    /// rule FetchEvents and ListShared use), that happened at or after <paramref name="since"/>.
    /// </summary>
    private Owed Shared(PeerRecord peer, DateTimeOffset since)
    {
        var envelopes = new List<Envelope>();
        var participantsOnly = 0;
        var incomplete = false;
        foreach (var o in store.OriginObjects(identity.NodeId))
        {
            if (!Audience.Of(StateCodec.Parse(o.Kind, o.State)).Contains(peer.NodeId))
            {
                continue;
            }
            var events = store.LoadEvents(o.ObjectId, 0, int.MaxValue);
            if (EventTiers.SealedAtRest(o.Kind))
            {
                // Their payloads may rest sealed (adr/0025), dates and all: every one is counted.
                participantsOnly += events.Count;
                incomplete |= events.Count > 0;
                continue;
            }
            events = events.Where(e => EventPayload.Parser.ParseFrom(e.Payload).OccurredAt is { } at && Dates.IsValid(at) && at.ToDateTimeOffset() >= since).ToList();
            var built = events.Select(e => Envelopes.Build(e, identity.Algorithm)).ToList();
            var takeable = gate.TakeableCount(peer.NodeId, built);
            incomplete |= takeable < built.Count;
            envelopes.AddRange(built.Take(takeable));
        }
        return new Owed(envelopes.Select(e => new BundleItem { Envelope = e }).ToList(), incomplete, participantsOnly, 0, []);
    }

    /// <param name="relayedFrom">For a bundle that came sealed in a relay parcel: the parcel's source, which must be the bundle's carrier.</param>
    public async Task<ImportedBundle> ImportAsync(ImportBundleRequest request, CancellationToken ct, string? relayedFrom = null)
    {
        if (request.Bundle.IsEmpty)
        {
            throw RuleViolation.Invalid("The request carries no bundle: give the file's bytes.");
        }
        if (relayedFrom is null && request.Bundle.Span.StartsWith(SealedFileMagic))
        {
            // Sealed to this node: opened with its sealing key, then imported as any bundle,
            // whose carrier must be the parcel's source.
            RelayParcel parcel;
            try
            {
                parcel = RelayParcel.Parser.ParseFrom(request.Bundle.Span[SealedFileMagic.Length..]);
            }
            catch (InvalidProtocolBufferException)
            {
                throw new RuleViolation(RefusalKind.InvalidArgument, BundleFormat.Rule, "Bundle refused: the sealed bundle is not readable (cut short?); nothing was applied.");
            }
            var (sealedHeader, inner) = Federation.Core.Relay.RelayFormat.Open(parcel, identity.NodeId, relay: "", sealingKey, keys,
                source => keys.Sync(source, store.GetPeer(source)), clock.UtcNow);
            return await ImportAsync(new ImportBundleRequest { Bundle = ByteString.CopyFrom(inner) }, ct, relayedFrom: sealedHeader.SourceNode);
        }
        var bundle = BundleFormat.Open(request.Bundle.Span, identity.NodeId, keys,
            carrier => keys.Sync(carrier, store.GetPeer(carrier)),
            clock.UtcNow);
        var header = bundle.Header;
        if (relayedFrom is not null && header.CarrierNode != relayedFrom)
        {
            throw new RuleViolation(RefusalKind.InvalidArgument, BundleFormat.Rule,
                $"Bundle refused: it was made by network {Identifiers.Fingerprint(header.CarrierNode)}, not by the parcel's source {Identifiers.Fingerprint(relayedFrom)}; nothing was applied.");
        }
        var carrier = store.GetPeer(header.CarrierNode)!;
        var answer = new ImportedBundle
        {
            BundleId = header.BundleId, CarrierNode = header.CarrierNode, Part = header.Part, Parts = header.Parts, SetId = header.SetId,
        };
        // Before any item: an item the carrier's revoked key signed after its time is then refused.
        await nodeKeys.AcceptAsync(header.CarrierNode, header.Revocations, ct);

        var verified = new List<(int Index, VerifiedEvent Event)>();
        var submitted = new List<(int Index, SignedSubmission Signed)>();
        for (var i = 0; i < bundle.Items.Count; i++)
        {
            var (bytes, intact) = bundle.Items[i];
            if (!intact)
            {
                answer.Refused.Add(Refused(i, null, "its bytes differ from the hash in the signed header: it was changed on the way"));
                continue;
            }
            BundleItem item;
            try
            {
                item = BundleItem.Parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException)
            {
                answer.Refused.Add(Refused(i, null, "it is not a readable item"));
                continue;
            }
            if (item.Submission is { } signed)
            {
                submitted.Add((i, signed));
                continue;
            }
            if (item.Envelope is not { } envelope)
            {
                answer.Refused.Add(Refused(i, null, "it is of a kind this release does not know"));
                continue;
            }
            try
            {
                // The checks every delivered envelope gets: origin, pinned key or certificate,
                // revocations, signed commitments, dates.
                verified.Add((i, replica.Verify([envelope])[0]));
            }
            catch (RuleViolation refused)
            {
                answer.Refused.Add(Refused(i, envelope, refused.Message));
            }
        }

        // Applied object by object, in the bundle's order, through the delivery's write path.
        foreach (var run in verified.GroupBy(v => v.Event.Payload.ObjectId))
        {
            await ApplyAsync(run.ToList(), answer, ct);
        }

        // The carrier's own submissions, for objects this node originates: recorded as if the
        // carrier had sent them on Submit, once each.
        var recorded = new List<string>();
        foreach (var (index, signed) in submitted)
        {
            var payload = TryParse(signed);
            try
            {
                await signedSubmissions.RecordAsync(carrier, signed, ct);
                recorded.Add(payload!.SubmissionId);
            }
            catch (Exception ex) when (ex is RpcException or RuleViolation)
            {
                answer.Refused.Add(new RefusedBundleItem
                {
                    Index = (uint)index,
                    ObjectId = payload?.ObjectId ?? "",
                    Reason = ex is RpcException r ? r.Status.Detail : ex.Message,
                });
            }
        }
        answer.SubmissionsRecorded = (uint)recorded.Count;

        if (header.Acknowledged.Count > 0 || header.AcknowledgedSubmissions.Count > 0)
        {
            answer.CursorMovedPast = (uint)await AcknowledgedAsync(carrier, header, ct);
        }
        if (bundle.Items.Count > 0)
        {
            answer.Acknowledgement = Acknowledgement(header, recorded).ToByteString();
        }
        log.LogInformation("Imported bundle {Bundle}{Part} from {Peer}: {Applied} applied, {Duplicates} already held, {Held} held behind a gap, {Refused} refused{Ack}",
            header.BundleId, header.Parts > 0 ? $" (part {header.Part} of {header.Parts} of set {header.SetId})" : "", carrier.Name, answer.Applied, answer.Duplicates, answer.Held, answer.Refused.Count,
            answer.CursorMovedPast > 0 ? $", {answer.CursorMovedPast} queued items settled by its acknowledgement" : "");
        return answer;
    }

    /// <summary>One object's items in one transaction; if a rule refuses one, item by item, so each refusal names its item.</summary>
    private async Task ApplyAsync(IReadOnlyList<(int Index, VerifiedEvent Event)> run, ImportedBundle answer, CancellationToken ct)
    {
        try
        {
            Count(answer, await replica.ReceiveAsync(run.Select(r => r.Event).ToList(), ct));
            return;
        }
        catch (RuleViolation) when (run.Count > 1)
        {
            // Nothing of the run was stored: find which item breaks a rule.
        }
        catch (RuleViolation refused)
        {
            answer.Refused.Add(Refused(run[0].Index, run[0].Event.Envelope, refused.Message));
            return;
        }
        foreach (var single in run)
        {
            try
            {
                Count(answer, await replica.ReceiveAsync([single.Event], ct));
            }
            catch (RuleViolation refused)
            {
                answer.Refused.Add(Refused(single.Index, single.Event.Envelope, refused.Message));
            }
        }
    }

    private static void Count(ImportedBundle answer, ReceiveResult result)
    {
        answer.Applied += (uint)result.Applied;
        answer.Duplicates += (uint)result.Duplicates;
        answer.Held += (uint)result.Held;
    }

    /// <summary>
    /// The signed answer to carry back: per object the bundle named, how far this node now
    /// holds it in order (what is held behind a gap does not count).
    /// </summary>
    private SignedBundle Acknowledgement(BundleHeader imported, IEnumerable<string> recordedSubmissions)
    {
        var now = clock.UtcNow;
        var header = new BundleHeader
        {
            BundleId = Guid.NewGuid().ToString(),
            CarrierNode = identity.NodeId,
            RecipientNode = imported.CarrierNode,
            MadeAt = Timestamp.FromDateTimeOffset(now),
            ExpiresAt = Timestamp.FromDateTimeOffset(now + DefaultValidity),
            AcknowledgesBundleId = imported.BundleId,
        };
        header.Acknowledged.AddRange(imported.Ranges.Select(r => r.ObjectId).Distinct()
            .Select(id => new BundlePosition { ObjectId = id, Sequence = store.GetObject(id)?.LastSequence ?? 0 })
            .Where(p => p.Sequence > 0));
        header.AcknowledgedSubmissions.AddRange(recordedSubmissions);
        header.Revocations.AddRange(nodeKeys.Ours);
        return BundleFormat.Seal(header, [], identity.Current);
    }

    /// <summary>
    /// A peer's signed acknowledgement: the queued items to it that it says it holds are
    /// settled, from the front of its queue up to the first it does not (a cursor moves only
    /// forward, past what was taken in order). Returns how many items it settled.
    /// </summary>
    private async Task<int> AcknowledgedAsync(PeerRecord peer, BundleHeader header, CancellationToken ct)
    {
        var holds = new Dictionary<string, ulong>();
        foreach (var p in header.Acknowledged)
        {
            holds[p.ObjectId] = Math.Max(p.Sequence, holds.GetValueOrDefault(p.ObjectId));
        }
        var recorded = header.AcknowledgedSubmissions.ToHashSet(StringComparer.Ordinal);
        // Opened as delivery opens them: a confidential submission rests sealed (adr/0025), and
        // one that came back acknowledged by relay is settled like any other; locked, the
        // queue settles up to the first item that cannot be opened.
        var queued = sealedEnvelopes.Open(store.LoadBatch(peer.NodeId, MaxScanned, identity.Algorithm), out _);
        var settled = queued.TakeWhile(q => q.Kind == OutboxKind.Event
            ? holds.TryGetValue(q.ObjectId, out var upTo) && q.Sequence <= upTo
            : !StorageVault.IsSealed(q.Body) && TryParse(SignedSubmission.Parser.ParseFrom(q.Body)) is { } p && recorded.Contains(p.SubmissionId)).ToList();
        if (settled.Count == 0)
        {
            return 0;
        }
        // The write a delivery's acknowledgement makes: monotonic, so a replayed or older
        // acknowledgement changes nothing.
        await store.WriteAsync(tx =>
        {
            tx.Advance(peer.NodeId, settled[^1].Id);
            return true;
        }, ct);
        return settled.Count;
    }

    private PeerRecord Peer(string peer)
    {
        if (peer.Length == 0)
        {
            throw RuleViolation.Invalid("Name the peer the bundle is for: its fingerprint or its name (`solnet peers` lists them).");
        }
        var byName = store.ListPeers().Where(p => string.Equals(p.Name, peer, StringComparison.OrdinalIgnoreCase)).ToList();
        var record = byName.Count == 1 ? byName[0] : store.GetPeer(Identifiers.NodeIdFromFingerprint(peer));
        if (record is null || !PeerStates.Reachable(record.State))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, "explicit peering",
                $"{peer} is not an active peer of this node: a bundle is made only for a network both sides have added (`solnet peers` lists them).");
        }
        // A release that said what it speaks and lacks bundles could not import the file.
        if (store.PeerProtocol(record.NodeId) is { Refusal: null } known && !known.CapabilitySet.Contains(Protocol.Capabilities.Bundles))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, BundleFormat.Rule,
                $"{record.Name} runs release {(known.Software.Length > 0 ? known.Software : "0.1.0 or earlier")}, which cannot import bundles: its operator must upgrade it first.");
        }
        return record;
    }

    private static SubmissionPayload? TryParse(SignedSubmission signed)
    {
        try
        {
            return SubmissionPayload.Parser.ParseFrom(signed.Payload);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static RefusedBundleItem Refused(int index, Envelope? envelope, string reason) => new()
    {
        Index = (uint)index,
        ObjectId = envelope?.ObjectId ?? "",
        Sequence = envelope?.Sequence ?? 0,
        Reason = reason,
    };
}
