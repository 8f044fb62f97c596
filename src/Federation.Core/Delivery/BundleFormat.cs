using System.Security.Cryptography;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Delivery;

/// <summary>A bundle whose header verified, for this node, in time; each item with whether its bytes match their hash.</summary>
public sealed record CheckedBundle(BundleHeader Header, IReadOnlyList<(byte[] Bytes, bool Intact)> Items);

/// <summary>
/// Making and checking bundle files (issue 18, docs/adr/0023): a header signed by the node
/// that made it, naming each item's SHA-256, then the items exactly as signed by their
/// origins. No I/O: the node reads the store, this seals and checks.
/// </summary>
public static class BundleFormat
{
    public const string Rule = "signed bundle";

    /// <summary>Fills in the header's hashes over <paramref name="items"/>, signs it with <paramref name="key"/>, and returns the file.</summary>
    public static SignedBundle Seal(BundleHeader header, IReadOnlyList<byte[]> items, NodeKey key)
    {
        header.ItemSha256.Clear();
        header.ItemSha256.AddRange(items.Select(i => ByteString.CopyFrom(SHA256.HashData(i))));
        header.ContentsSha256 = ByteString.CopyFrom(ContentsHash(header));
        var headerBytes = header.ToByteArray();
        var bundle = new SignedBundle
        {
            Header = ByteString.CopyFrom(headerBytes),
            Signature = ByteString.CopyFrom(key.Sign(SignedKind.Bundle, headerBytes)),
            Algorithm = key.Algorithm,
            Certificate = key.Certificate,
        };
        bundle.Items.AddRange(items.Select(ByteString.CopyFrom));
        return bundle;
    }

    /// <summary>
    /// Checks a bundle before anything in it is used: readable, its header signed by
    /// <paramref name="carrierIsPeer"/>'s peer, for <paramref name="me"/>, not expired, and
    /// holding every item it lists. Throws a <see cref="RuleViolation"/> naming the reason;
    /// an item whose bytes differ from their hash is only marked, to be refused on its own.
    /// </summary>
    /// <param name="carrierIsPeer">Whether a node id is an active peer (and its key is then known to <paramref name="keys"/>).</param>
    public static CheckedBundle Open(ReadOnlySpan<byte> file, string me, PeerKeys keys, Func<string, bool> carrierIsPeer, DateTimeOffset now)
    {
        SignedBundle bundle;
        BundleHeader header;
        try
        {
            bundle = SignedBundle.Parser.ParseFrom(file);
            header = BundleHeader.Parser.ParseFrom(bundle.Header);
        }
        catch (InvalidProtocolBufferException)
        {
            throw Refuse(RefusalKind.InvalidArgument, "the file is not a bundle, or it is truncated or damaged; nothing was applied");
        }
        if (bundle.Header.IsEmpty || bundle.Signature.IsEmpty || !Identifiers.IsNodeId(header.CarrierNode))
        {
            throw Refuse(RefusalKind.InvalidArgument, "the file is not a bundle (it has no signed header), or it is truncated; nothing was applied");
        }
        if (!carrierIsPeer(header.CarrierNode))
        {
            throw Refuse(RefusalKind.FailedPrecondition,
                $"it was made by network {Identifiers.Fingerprint(header.CarrierNode)}, which is not a peer of this node (or is suspended or revoked); nothing was applied");
        }
        if (!SignatureAlgorithms.CanVerify(bundle.Algorithm))
        {
            throw Refuse(RefusalKind.InvalidArgument, $"its header {SignatureAlgorithms.Unknown(bundle.Algorithm)}; nothing was applied");
        }
        var madeAt = header.MadeAt is { } m && Dates.IsValid(m) ? m.ToDateTimeOffset() : DateTimeOffset.MinValue;
        if (keys.WhyNot(header.CarrierNode, bundle.Certificate, madeAt, SignedKind.Bundle, bundle.Header.Span, bundle.Signature.Span) is { } why)
        {
            throw Refuse(RefusalKind.InvalidArgument, $"its header does not verify ({why}): it was changed on the way, or not made by the network it names; nothing was applied");
        }
        // From here on the header is the carrier's own word.
        if (header.Parts > 0 && (header.Part == 0 || header.Part > header.Parts || header.SetId.Length == 0))
        {
            throw Refuse(RefusalKind.InvalidArgument, $"it says it is part {header.Part} of {header.Parts}, which no set has; nothing was applied");
        }
        if (header.RecipientNode != me)
        {
            throw Refuse(RefusalKind.FailedPrecondition,
                $"it is for network {Identifiers.Fingerprint(header.RecipientNode)}, not this one ({Identifiers.Fingerprint(me)}); nothing was applied");
        }
        if (madeAt > now + Log.Envelopes.ClockSkew)
        {
            throw Refuse(RefusalKind.FailedPrecondition, $"it says it was made at {madeAt:u}, ahead of this node's clock; check either node's clock; nothing was applied");
        }
        if (header.ExpiresAt is not { } expires || !Dates.IsValid(expires) || expires.ToDateTimeOffset() <= now)
        {
            throw Refuse(RefusalKind.FailedPrecondition,
                $"it expired at {(header.ExpiresAt is { } e && Dates.IsValid(e) ? e.ToDateTimeOffset().ToString("u") : "an unreadable time")}; ask its sender for a new one; nothing was applied");
        }
        if (bundle.Items.Count != header.ItemSha256.Count)
        {
            throw Refuse(RefusalKind.InvalidArgument, bundle.Items.Count < header.ItemSha256.Count
                ? $"its header lists {header.ItemSha256.Count} items and the file holds {bundle.Items.Count}: it is truncated; nothing was applied"
                : $"its header lists {header.ItemSha256.Count} items and the file holds {bundle.Items.Count}: items were added on the way; nothing was applied");
        }
        if (!CryptographicOperations.FixedTimeEquals(ContentsHash(header), header.ContentsSha256.Span))
        {
            throw Refuse(RefusalKind.InvalidArgument, "its contents hash does not match its item hashes; nothing was applied");
        }
        var items = bundle.Items.Select((item, i) =>
        {
            var bytes = item.ToByteArray();
            return (bytes, SHA256.HashData(bytes).AsSpan().SequenceEqual(header.ItemSha256[i].Span));
        }).ToList();
        return new CheckedBundle(header, items);
    }

    /// <summary>
    /// Whether a queued submission may travel in a bundle, which whoever carries it can read:
    /// only kinds whose whole content goes into events every network of the object's audience
    /// holds (the public tier, or a call-out's recipients). Left out: action plans and their
    /// updates and reports (their plan's visibility may be participants-only), referrals and
    /// incidents (for the initiator only), and a report-back not shared with the recipients.
    /// </summary>
    public static bool CarriedInClear(SubmissionPayload submission) => submission.KindCase switch
    {
        SubmissionPayload.KindOneofCase.CallOutResponse =>
            submission.CallOutResponse.Kind != ResponseKind.ReportBack || submission.CallOutResponse.ShareWithRecipients,
        SubmissionPayload.KindOneofCase.AcceptInvitation or SubmissionPayload.KindOneofCase.DeclineInvitation
            or SubmissionPayload.KindOneofCase.ReaffirmTerms or SubmissionPayload.KindOneofCase.DeclineAmendment
            or SubmissionPayload.KindOneofCase.RequestRelease or SubmissionPayload.KindOneofCase.AcknowledgeStandDown => true,
        _ => false,
    };

    /// <summary>The SHA-256 over the item hashes in order: the contents as one hash.</summary>
    private static byte[] ContentsHash(BundleHeader header)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var item in header.ItemSha256)
        {
            hash.AppendData(item.Span);
        }
        return hash.GetHashAndReset();
    }

    private static RuleViolation Refuse(RefusalKind kind, string why) => new(kind, Rule, $"Bundle refused: {why}.");
}
