using Federation.Core.Peers;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Peering;

/// <summary>
/// This node's keys as its network certifies and revokes them (issue 16, docs/adr/0022),
/// and the revocations its peers' networks have signed. A revocation is taken only from
/// the network it is about (its own key signs it, checked here), kept in the database so
/// every replica and every restart knows it, and applied to <see cref="PeerKeys"/>, which
/// refuses what a revoked key signed from its time on.
/// </summary>
public sealed class NodeKeys(IFederationStore store, PeerKeys keys, NodeIdentity identity, OriginLog origin, ReplicaLog replica, Delivery.CatchUpSignal catchUp,
    Federation.Core.NodeClock clock, ILogger<NodeKeys> log)
{
    /// <summary>Loads the revocations held, at start-up, and again whenever the store reads other ones (another replica took one).</summary>
    public void Load()
    {
        store.RevocationsRead += Apply;
        Apply(store.Revocations());
    }

    private void Apply(IReadOnlyList<byte[]> revocations)
    {
        foreach (var bytes in revocations)
        {
            try
            {
                keys.Revoke(NetworkSignatures.Check(SignedRevocation.Parser.ParseFrom(bytes)));
            }
            catch (Exception e) when (e is InvalidKeyCertificateException or InvalidProtocolBufferException)
            {
                // Checked before it was stored; a row that no longer checks out is damage, not a reason to stop.
                log.LogWarning("A stored key revocation does not check out and is ignored: {Reason}", e.Message);
            }
        }
    }

    /// <summary>This network's revocations, as signed: said in every Hello and Identify.</summary>
    public IEnumerable<SignedRevocation> Ours => keys.RevocationsOf(identity.NodeId).Select(r => r.Signed);

    /// <summary>
    /// Takes the revocations <paramref name="network"/> sent about its own keys. One about
    /// another network, or one whose signature fails, is refused with the reason.
    /// </summary>
    public async Task AcceptAsync(string network, IEnumerable<SignedRevocation> revocations, CancellationToken ct)
    {
        foreach (var signed in revocations)
        {
            CheckedRevocation revocation;
            try
            {
                revocation = NetworkSignatures.Check(signed);
            }
            catch (InvalidKeyCertificateException e)
            {
                throw RuleViolation.Invalid($"A key revocation from {Identifiers.ShortFingerprint(network)} is refused: {e.Message}.");
            }
            if (revocation.NetworkId != network)
            {
                throw RuleViolation.Invalid(
                    $"A key revocation from {Identifiers.ShortFingerprint(network)} is about network {Identifiers.ShortFingerprint(revocation.NetworkId)}: a network revokes only its own keys.");
            }
            if (keys.RevokedSince(revocation.NetworkId, revocation.KeyId) is { } held && held <= revocation.CompromisedSince)
            {
                continue;
            }
            await store.WriteAsync(tx =>
            {
                tx.SaveRevocation(revocation.NetworkId, revocation.KeyId, revocation.CompromisedSince, signed.ToByteArray());
                return true;
            }, ct);
            keys.Revoke(revocation);
            log.LogWarning("Network {Network} revoked its node key {Key} as compromised since {Since:u}: what that key signed from then on is refused",
                Identifiers.ShortFingerprint(revocation.NetworkId), Identifiers.ShortFingerprint(revocation.KeyId), revocation.CompromisedSince);
            if (network != identity.NodeId && await replica.QuarantineAsync(revocation, ct) is { Count: > 0 } changed)
            {
                log.LogWarning("{Count} of {Network}'s objects held events that key signed after then: they are quarantined (solnet key show), and the rest is fetched again from the network",
                    changed.Count, Identifiers.ShortFingerprint(revocation.NetworkId));
                catchUp.Request(network);
            }
        }
    }

    /// <summary>How this node's keys stand, for the operator.</summary>
    public NodeKeysStatus Status()
    {
        var current = identity.Current;
        var status = new NodeKeysStatus
        {
            KeyAlgorithm = current.Algorithm,
            NetworkId = identity.NodeId,
            NetworkPublicKey = ByteString.CopyFrom(identity.PublicKey),
            Certified = current.Certificate is not null,
            KeyId = current.KeyId,
            Serial = current.Checked?.Serial ?? 0,
            NotAfter = current.Checked is { } c ? Timestamp.FromDateTimeOffset(c.NotAfter) : null,
            Renewal = current.Checked is { } due ? KeyRenewal.Reminder(due.NotAfter, clock.UtcNow) ?? "" : "",
        };
        status.Revoked.Add(keys.RevocationsOf(identity.NodeId).Select(r => new RevokedKey
        {
            KeyId = r.KeyId,
            CompromisedSince = Timestamp.FromDateTimeOffset(r.CompromisedSince),
        }));
        status.Quarantined.Add(store.ListQuarantined().Select(q => new QuarantinedItem
        {
            ObjectId = q.ObjectId,
            Sequence = q.Sequence,
            EventId = q.EventId,
            Reason = q.Reason,
            At = Timestamp.FromDateTimeOffset(q.At),
        }));
        return status;
    }

    /// <summary>
    /// The key to certify next (solnet key rotate), of <paramref name="asked"/>, or, when
    /// none is asked, Ed25519 if every peer can verify it and ECDSA P-256 if not: a peer
    /// that cannot verify what this node signs takes nothing from it (docs/adr/0028). Only
    /// the peers reached now are asked: what is signed meanwhile waits for a suspended one
    /// that turns out not to verify it (CapabilityGate).
    /// </summary>
    public NodeKeysStatus Prepare(SignatureAlgorithm asked)
    {
        // A network whose own key is Ed25519 has nothing a peer without Ed25519 could verify
        // (every certificate is signed by that key): such a peer is no reason to keep ECDSA (docs/adr/0029).
        var lacking = identity.Algorithm == SignatureAlgorithm.Ed25519 ? [] : store.ListPeers()
            .Where(p => PeerStates.Reachable(p.State)
                && !store.PeerHas(p.NodeId, Protocol.Capabilities.SignaturesEd25519))
            .Select(p => p.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
        SignatureAlgorithm algorithm;
        string note;
        switch (asked)
        {
            case SignatureAlgorithm.Ed25519 when lacking.Count > 0:
                throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SignedEnvelope,
                    $"Ed25519 is refused: {string.Join(", ", lacking)} cannot verify it (they have not said they run 0.2.0 or later), and would take nothing this node signs. "
                    + "Upgrade them first, or rotate to ecdsa-p256. Nothing changed.");
            case SignatureAlgorithm.Ed25519:
                (algorithm, note) = (asked, "as asked; every peer verifies it");
                break;
            case SignatureAlgorithm.EcdsaP256Sha256:
                (algorithm, note) = (asked, "as asked");
                break;
            case SignatureAlgorithm.Unspecified:
                (algorithm, note) = lacking.Count == 0
                    ? (SignatureAlgorithm.Ed25519, "every peer verifies it")
                    : (SignatureAlgorithm.EcdsaP256Sha256, $"not Ed25519 yet: {string.Join(", ", lacking)} cannot verify it");
                break;
            default:
                throw RuleViolation.Invalid($"This release cannot sign with {Signatures.Name(asked)}: ask for ed25519 or ecdsa-p256.");
        }
        var status = Status();
        status.NextPublicKey = ByteString.CopyFrom(identity.NextPublicKey(algorithm));
        status.NextKeyAlgorithm = algorithm;
        status.NextKeyNote = note;
        return status;
    }

    /// <summary>Installs the certificate for the next key (solnet key rotate); a certificate that does not fit changes nothing.</summary>
    public CheckedCertificate Install(CertifiedKey certificate)
    {
        try
        {
            var installed = identity.Install(certificate);
            log.LogWarning("This node now signs with node key {Key} (serial {Serial}), certified by its network until {Until:u}",
                Identifiers.ShortFingerprint(installed.KeyId), installed.Serial, installed.NotAfter);
            return installed;
        }
        catch (InvalidKeyCertificateException e)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SignedEnvelope, $"The certificate is refused: {e.Message}. Nothing changed.");
        }
    }

    /// <summary>This network's own revocation (solnet key revoke): refused for the key in use, which must be rotated away first.</summary>
    public async Task RevokeOwnAsync(SignedRevocation revocation, CancellationToken ct)
    {
        CheckedRevocation checkedRevocation;
        try
        {
            checkedRevocation = NetworkSignatures.Check(revocation);
        }
        catch (InvalidKeyCertificateException e)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.SignedEnvelope, $"The revocation is refused: {e.Message}. Only the network key can revoke a node key; nothing changed.");
        }
        if (checkedRevocation.NetworkId != identity.NodeId)
        {
            throw RuleViolation.Invalid($"The revocation is for network {Identifiers.ShortFingerprint(checkedRevocation.NetworkId)}, not this node's; nothing changed.");
        }
        if (checkedRevocation.KeyId == identity.Current.KeyId)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SignedEnvelope,
                "That is the key this node signs with now: rotate to a new key first (solnet key rotate), then revoke this one. Nothing changed.");
        }
        await AcceptAsync(identity.NodeId, [revocation], ct);
        // Before peers hear of it: what this node itself signed with that key since then
        // (a restored server, before the rotation) is signed again, for them to fetch.
        if (await origin.ResignAsync(checkedRevocation, ct) is > 0 and var resigned)
        {
            log.LogWarning("{Count} of this node's own events were signed with the revoked key after that time: they are signed again with the key in use", resigned);
        }
    }
}
