using System.Security.Cryptography;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Domain;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Core.Relay;

/// <summary>
/// Relay through a mutual peer (issue 18 #2, docs/adr/0027), as bytes: a node's signed
/// sealing key, and a parcel: a bundle (docs/adr/0023) sealed to the recipient's sealing key
/// under a header the source signs. The relay checks the header and carries the sealed bytes;
/// only the recipient opens them. No I/O: the node reads the store, this seals and checks.
/// </summary>
public static class RelayFormat
{
    /// <summary>The label of the key agreement, so a key agreed for a parcel serves nothing else.</summary>
    private static ReadOnlySpan<byte> AgreementLabel => "solnet/v1/relay-seal\0"u8;

    public const string SealingAlgorithm = "ecdh-p256-hkdf-sha256-aes256gcm";
    public const string Rule = "relay through a mutual peer";

    private const int NonceSize = 12;
    private const int TagSize = 16;

    public static SignedSealingKey SignSealingKey(string nodeId, byte[] publicKey, NodeKey key, DateTimeOffset now)
    {
        var statement = new SealingKeyStatement
        {
            NodeId = nodeId,
            Algorithm = SealingAlgorithm,
            PublicKey = ByteString.CopyFrom(publicKey),
            MadeAt = Timestamp.FromDateTimeOffset(now),
        }.ToByteArray();
        return new SignedSealingKey
        {
            Statement = ByteString.CopyFrom(statement),
            // Over its kind's prefix (SignedKind.SealingKey), so it never verifies as another kind of signed thing.
            Signature = ByteString.CopyFrom(key.Sign(SignedKind.SealingKey, statement)),
            Algorithm = key.Algorithm,
            Certificate = key.Certificate,
        };
    }

    /// <summary>A peer's sealing key's public half, once its signature holds for <paramref name="nodeId"/>; a refusal naming why otherwise.</summary>
    public static byte[] CheckSealingKey(SignedSealingKey signed, string nodeId, PeerKeys keys)
    {
        SealingKeyStatement statement;
        try
        {
            statement = SealingKeyStatement.Parser.ParseFrom(signed.Statement);
        }
        catch (InvalidProtocolBufferException)
        {
            throw Refuse(RefusalKind.InvalidArgument, "the sealing key's statement is not readable");
        }
        if (statement.NodeId != nodeId || statement.Algorithm != SealingAlgorithm || statement.PublicKey.IsEmpty)
        {
            throw Refuse(RefusalKind.InvalidArgument, $"the sealing key is not one of network {Identifiers.Fingerprint(nodeId)}'s, or not of algorithm {SealingAlgorithm}");
        }
        if (!SignatureAlgorithms.CanVerify(signed.Algorithm))
        {
            throw Refuse(RefusalKind.InvalidArgument, $"the sealing key {SignatureAlgorithms.Unknown(signed.Algorithm)}");
        }
        var madeAt = statement.MadeAt is { } m && Dates.IsValid(m) ? m.ToDateTimeOffset() : DateTimeOffset.MinValue;
        if (keys.WhyNot(nodeId, signed.Certificate, madeAt, SignedKind.SealingKey, signed.Statement.Span, signed.Signature.Span) is { } why)
        {
            throw Refuse(RefusalKind.InvalidArgument, $"the sealing key's signature does not verify ({why})");
        }
        return statement.PublicKey.ToByteArray();
    }

    /// <summary>Seals <paramref name="bundle"/> (a serialised SignedBundle) to <paramref name="recipientSealingKey"/>, under a header <paramref name="key"/> signs.</summary>
    public static RelayParcel Seal(string source, string recipient, string relay, byte[] bundle, byte[] recipientSealingKey,
        NodeKey key, DateTimeOffset now, DateTimeOffset expires)
    {
        var header = new RelayParcelHeader
        {
            ParcelId = Guid.NewGuid().ToString(),
            SourceNode = source,
            RecipientNode = recipient,
            RelayNode = relay,
            MadeAt = Timestamp.FromDateTimeOffset(now),
            ExpiresAt = Timestamp.FromDateTimeOffset(expires),
        };
        var (ephemeral, aesKey) = EciesP256.Agree(recipientSealingKey, AgreementLabel, "the recipient's sealing key");
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var sealedBytes = new byte[bundle.Length + TagSize];
        try
        {
            using var aes = new AesGcm(aesKey, TagSize);
            aes.Encrypt(nonce, bundle, sealedBytes.AsSpan(0, bundle.Length), sealedBytes.AsSpan(bundle.Length), AssociatedData(header));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(aesKey);
        }
        header.EphemeralPublicKey = ByteString.CopyFrom(ephemeral);
        header.Nonce = ByteString.CopyFrom(nonce);
        header.SealedSha256 = ByteString.CopyFrom(SHA256.HashData(sealedBytes));
        var headerBytes = header.ToByteArray();
        return new RelayParcel
        {
            Header = ByteString.CopyFrom(headerBytes),
            Signature = ByteString.CopyFrom(key.Sign(SignedKind.RelayParcel, headerBytes)),
            Algorithm = key.Algorithm,
            Certificate = key.Certificate,
            Sealed = ByteString.CopyFrom(sealedBytes),
        };
    }

    /// <summary>
    /// The relay's check of a parcel handed to it by <paramref name="caller"/>: signed by its
    /// source, which must be the caller (one hop: a parcel that came by relay is never relayed
    /// again), to be carried by <paramref name="me"/>, to someone else, not expired, its sealed
    /// bytes those the source hashed. The recipient's consent and the quota are the caller's checks.
    /// </summary>
    public static RelayParcelHeader CheckAtRelay(RelayParcel parcel, string me, string caller, PeerKeys keys, DateTimeOffset now)
    {
        var header = Header(parcel);
        if (header.SourceNode != caller)
        {
            throw Refuse(RefusalKind.FailedPrecondition,
                $"parcel {header.ParcelId} was made by network {Identifiers.Fingerprint(header.SourceNode)}, not by the caller: an item that came by relay is never relayed again (one hop)");
        }
        if (header.RelayNode != me)
        {
            throw Refuse(RefusalKind.FailedPrecondition,
                $"parcel {header.ParcelId} is to be carried by network {Identifiers.Fingerprint(header.RelayNode)}, not this one: an item that came by relay is never relayed again (one hop)");
        }
        if (header.RecipientNode == me || header.RecipientNode == caller || !Identifiers.IsNodeId(header.RecipientNode))
        {
            throw Refuse(RefusalKind.InvalidArgument, "a parcel's recipient must be a third network, neither its source nor its relay");
        }
        Verify(parcel, header, header.SourceNode, keys, now);
        return header;
    }

    /// <summary>
    /// The recipient's opening of a parcel <paramref name="relay"/> handed it: signed by its
    /// source, for <paramref name="me"/>, carried by the caller, not expired, not changed on the
    /// way. Returns the header and the sealed bundle's bytes.
    /// </summary>
    public static (RelayParcelHeader Header, byte[] Bundle) Open(RelayParcel parcel, string me, string relay, SealingKey sealingKey, PeerKeys keys,
        Func<string, bool> sourceIsPeer, DateTimeOffset now)
    {
        var header = Header(parcel);
        if (header.RecipientNode != me)
        {
            throw Refuse(RefusalKind.FailedPrecondition, $"parcel {header.ParcelId} is for network {Identifiers.Fingerprint(header.RecipientNode)}, not this one");
        }
        if (header.RelayNode != relay)
        {
            throw Refuse(RefusalKind.FailedPrecondition, $"parcel {header.ParcelId} was to be carried by network {Identifiers.Fingerprint(header.RelayNode)}, not the caller");
        }
        if (!sourceIsPeer(header.SourceNode))
        {
            throw Refuse(RefusalKind.FailedPrecondition,
                $"parcel {header.ParcelId} comes from network {Identifiers.Fingerprint(header.SourceNode)}, which is not an active peer of this node");
        }
        Verify(parcel, header, header.SourceNode, keys, now);
        var sealedBytes = parcel.Sealed.Span;
        if (sealedBytes.Length < TagSize || header.Nonce.Length != NonceSize)
        {
            throw Refuse(RefusalKind.InvalidArgument, $"parcel {header.ParcelId} is truncated");
        }
        byte[] aesKey;
        try
        {
            aesKey = EciesP256.KeyFor(sealingKey.Private, header.EphemeralPublicKey.Span, AgreementLabel, "the parcel's ephemeral key");
        }
        catch (ArgumentException ex)
        {
            throw Refuse(RefusalKind.InvalidArgument, $"parcel {header.ParcelId}: {ex.Message}");
        }
        var bundle = new byte[sealedBytes.Length - TagSize];
        try
        {
            using var aes = new AesGcm(aesKey, TagSize);
            aes.Decrypt(header.Nonce.Span, sealedBytes[..^TagSize], sealedBytes[^TagSize..], bundle, AssociatedData(header));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw Refuse(RefusalKind.InvalidArgument,
                $"parcel {header.ParcelId} does not open with this node's sealing key: it was changed on the way, or sealed to a key this node no longer has");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(aesKey);
        }
        return (header, bundle);
    }

    /// <summary>
    /// Why a relay refuses a parcel from a source over its quota, or null when it fits: the
    /// bytes it already holds for that source plus this parcel, against the most it holds per source.
    /// </summary>
    public static string? OverQuota(long heldForSource, long parcelBytes, long quotaPerSource) =>
        heldForSource + parcelBytes <= quotaPerSource ? null
        : $"This relay already holds {heldForSource / 1024} KiB for your network, and this parcel of {parcelBytes / 1024} KiB would pass the {quotaPerSource / 1024} KiB it holds per network (Node:Relay:QuotaPerSourceBytes on the relay). It frees space as the recipients take what it holds, or as parcels expire; try again later, or ask the relay's operator for a larger quota.";

    private static RelayParcelHeader Header(RelayParcel parcel)
    {
        try
        {
            var header = RelayParcelHeader.Parser.ParseFrom(parcel.Header);
            if (parcel.Header.IsEmpty || parcel.Signature.IsEmpty || header.ParcelId.Length == 0 || !Identifiers.IsNodeId(header.SourceNode))
            {
                throw Refuse(RefusalKind.InvalidArgument, "the request carries no signed parcel header");
            }
            return header;
        }
        catch (InvalidProtocolBufferException)
        {
            throw Refuse(RefusalKind.InvalidArgument, "the parcel's header is not readable");
        }
    }

    private static void Verify(RelayParcel parcel, RelayParcelHeader header, string source, PeerKeys keys, DateTimeOffset now)
    {
        if (!SignatureAlgorithms.CanVerify(parcel.Algorithm))
        {
            throw Refuse(RefusalKind.InvalidArgument, $"parcel {header.ParcelId}'s header {SignatureAlgorithms.Unknown(parcel.Algorithm)}");
        }
        var madeAt = header.MadeAt is { } m && Dates.IsValid(m) ? m.ToDateTimeOffset() : DateTimeOffset.MinValue;
        if (keys.WhyNot(source, parcel.Certificate, madeAt, SignedKind.RelayParcel, parcel.Header.Span, parcel.Signature.Span) is { } why)
        {
            throw Refuse(RefusalKind.InvalidArgument, $"parcel {header.ParcelId}'s header does not verify ({why}): it was changed on the way, or not made by the network it names");
        }
        if (madeAt > now + Log.Envelopes.ClockSkew)
        {
            throw Refuse(RefusalKind.FailedPrecondition, $"parcel {header.ParcelId} says it was made at {madeAt:u}, ahead of this node's clock; check either node's clock");
        }
        if (header.ExpiresAt is not { } expires || !Dates.IsValid(expires) || expires.ToDateTimeOffset() <= now)
        {
            throw Refuse(RefusalKind.FailedPrecondition, $"parcel {header.ParcelId} has expired; its source sends a new one while the direct path stays cut");
        }
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(parcel.Sealed.Span), header.SealedSha256.Span))
        {
            throw Refuse(RefusalKind.InvalidArgument, $"parcel {header.ParcelId}'s sealed bytes differ from the hash its source signed: they were changed on the way");
        }
    }

    /// <summary>What AES-GCM binds the sealed bytes to: the parcel's id and its three nodes, so they cannot be moved under another header.</summary>
    private static byte[] AssociatedData(RelayParcelHeader header) =>
        System.Text.Encoding.UTF8.GetBytes($"solnet/v1/relay-seal\0{header.ParcelId}\0{header.SourceNode}\0{header.RecipientNode}\0{header.RelayNode}");

    private static RuleViolation Refuse(RefusalKind kind, string why) => new(kind, Rule, $"Relay refused: {why}.");
}
