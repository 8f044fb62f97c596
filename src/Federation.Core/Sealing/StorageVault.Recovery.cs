using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Federation.Contracts;
using Federation.Domain;

namespace Federation.Core.Sealing;

/// <summary>
/// Recovery of the storage key through the network key (docs/adr/0026). Beside the
/// passphrase wrap, the private half rests wrapped to the network key's public half, which
/// the node knows from its certificate: AES-256-GCM under a key agreed between a fresh
/// ephemeral key and the network key (P-256 or X25519, by the network key's algorithm: <see cref="StorageRecoveryAgreement"/>). Only the network
/// key's holder can agree that key again; solnet does it on the operator's machine and sends
/// the node that one key, so the network key never reaches the node, and the storage key
/// never leaves it.
/// </summary>
public sealed partial class StorageVault
{
    public const string RecoveryFile = "storage.recovery";

    private static readonly byte[] RecoveryMagic = "SOLNETSR"u8.ToArray();
    // 1: ECIES on P-256, for a P-256 network key; 2: ECIES on X25519, for an Ed25519 one
    // (StorageRecoveryAgreement.FormatVersionFor, docs/adr/0029).
    private static readonly int[] RecoveryVersions = [1, 2];
    private const int NetworkIdSize = 32;
    private const int RecoveryKeyStart = 8 + 2 + NetworkIdSize + 2;
    private const int GcmNonceSize = 12;
    private const int GcmTagSize = 16;

    private sealed record RecoveryWrapFile(string NetworkId, byte[] EphemeralPublicKey, byte[] AssociatedHeader, byte[] Nonce, byte[] Ciphertext, byte[] Tag);

    /// <summary>Whether the storage key can be recovered through the network key (a recovery wrap rests beside it).</summary>
    public bool Recoverable => HasKey && File.Exists(Path.Combine(_dataDir, RecoveryFile));

    /// <summary>What solnet needs to agree the wrap key with the network key: the network the wrap is for, and its ephemeral public key.</summary>
    public (string NetworkId, byte[] EphemeralPublicKey) RecoveryChallenge()
    {
        if (!HasKey)
        {
            throw NoKey();
        }
        var wrap = ReadRecoveryWrap() ?? throw NoRecoveryWrap();
        return (wrap.NetworkId, wrap.EphemeralPublicKey);
    }

    /// <summary>
    /// Opens the recovery wrap with <paramref name="wrapKey"/> (agreed by the network key's holder for
    /// <paramref name="ephemeralPublicKey"/>), wraps the private half under <paramref name="newPassphrase"/>,
    /// and leaves the node unlocked. A key that does not open the wrap changes nothing.
    /// </summary>
    public void Recover(ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> wrapKey, string newPassphrase)
    {
        CheckPassphrase(newPassphrase);
        if (wrapKey.Length != StorageRecoveryAgreement.KeySize)
        {
            throw RuleViolation.Invalid($"A recovery key is {StorageRecoveryAgreement.KeySize} bytes; this one is {wrapKey.Length}. Nothing was changed.");
        }
        lock (_gate)
        {
            var publicKey = _publicKey ?? PublicKeyIfSetUp() ?? throw NoKey();
            var wrap = ReadRecoveryWrap() ?? throw NoRecoveryWrap();
            if (!wrap.EphemeralPublicKey.AsSpan().SequenceEqual(ephemeralPublicKey))
            {
                throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SealedAtRest,
                    "The node's recovery wrap changed after solnet read it (it is made again on a recovery); run the recovery again. Nothing was changed.");
            }
            var secret = Guarded();
            var opened = false;
            try
            {
                using var aes = new AesGcm(wrapKey, GcmTagSize);
                unsafe
                {
                    aes.Decrypt(wrap.Nonce, wrap.Ciphertext, wrap.Tag, new Span<byte>((void*)secret, Sodium.SecretKeyBytes), [.. wrap.AssociatedHeader, .. publicKey]);
                }
                var derived = new byte[Sodium.PublicKeyBytes];
                opened = Sodium.crypto_scalarmult_base(derived, secret) == 0 && derived.AsSpan().SequenceEqual(publicKey);
            }
            catch (AuthenticationTagMismatchException)
            {
                // A key from another network key, or for another wrap: refused below.
            }
            if (!opened)
            {
                Sodium.sodium_free(secret);
                throw new RuleViolation(RefusalKind.PermissionDenied, Rules.SealedAtRest,
                    $"That key does not open this node's recovery wrap: it was not agreed with the key of network {NetworkKey.ShortFingerprintOf(wrap.NetworkId)}. Nothing was changed.");
            }
            WriteAtomically(Path.Combine(_dataDir, WrappedFile), Wrap(secret, publicKey, newPassphrase));
            Replace(secret);
            // A fresh wrap at once: the key that travelled to the node for this recovery opens nothing left on its disk.
            if (_recoveryTo() is { } networkPublicKey)
            {
                WriteRecoveryWrap(secret, publicKey, networkPublicKey);
            }
            else
            {
                File.Delete(Path.Combine(_dataDir, RecoveryFile));
            }
        }
    }

    /// <summary>
    /// Makes the recovery wrap when the network key is off the server and no wrap for it rests
    /// here yet: so a node set up before its network key left, or before this release, gains
    /// one at its next unlock. Never while the network key rests on the server: a wrap that
    /// the server's own key opens would hand the storage key to whoever takes the disk.
    /// </summary>
    private void KeepRecoveryWrap(IntPtr secret)
    {
        if (_recoveryTo() is not { } networkPublicKey || _publicKey is not { } publicKey)
        {
            return;
        }
        try
        {
            if (ReadRecoveryWrap() is { } wrap && wrap.NetworkId == NetworkKey.IdOf(networkPublicKey))
            {
                return;
            }
        }
        catch (RuleViolation)
        {
            // A damaged wrap is made again: the key is in hand, and a wrap that cannot open recovers nothing.
        }
        WriteRecoveryWrap(secret, publicKey, networkPublicKey);
    }

    private void WriteRecoveryWrap(IntPtr secret, byte[] publicKey, byte[] networkPublicKey)
    {
        var (ephemeralPublicKey, wrapKey) = StorageRecoveryAgreement.Agree(networkPublicKey);
        try
        {
            var header = new byte[RecoveryKeyStart + ephemeralPublicKey.Length];
            RecoveryMagic.CopyTo(header, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)StorageRecoveryAgreement.FormatVersionFor(networkPublicKey));
            Encoding.ASCII.GetBytes(NetworkKey.IdOf(networkPublicKey), header.AsSpan(10, NetworkIdSize));
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(10 + NetworkIdSize), (ushort)ephemeralPublicKey.Length);
            ephemeralPublicKey.CopyTo(header, RecoveryKeyStart);
            var file = new byte[header.Length + GcmNonceSize + Sodium.SecretKeyBytes + GcmTagSize];
            header.CopyTo(file, 0);
            var nonce = file.AsSpan(header.Length, GcmNonceSize);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(wrapKey, GcmTagSize);
            unsafe
            {
                // The header and the storage public key as associated data: neither can be swapped without the unwrap failing.
                aes.Encrypt(nonce, new ReadOnlySpan<byte>((void*)secret, Sodium.SecretKeyBytes), file.AsSpan(header.Length + GcmNonceSize, Sodium.SecretKeyBytes),
                    file.AsSpan(header.Length + GcmNonceSize + Sodium.SecretKeyBytes), [.. header, .. publicKey]);
            }
            WriteAtomically(Path.Combine(_dataDir, RecoveryFile), file);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrapKey);
        }
    }

    private RecoveryWrapFile? ReadRecoveryWrap()
    {
        var path = Path.Combine(_dataDir, RecoveryFile);
        if (!File.Exists(path))
        {
            return null;
        }
        var file = File.ReadAllBytes(path);
        var keyLength = file.Length >= RecoveryKeyStart ? BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(RecoveryKeyStart - 2)) : 0;
        var nonceStart = RecoveryKeyStart + keyLength;
        if (file.Length != nonceStart + GcmNonceSize + Sodium.SecretKeyBytes + GcmTagSize || !file.AsSpan(0, 8).SequenceEqual(RecoveryMagic)
            || !RecoveryVersions.Contains(BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8))))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SealedAtRest,
                $"{RecoveryFile} in the data folder is damaged or of another format: restore it from a backup, or unlock once with the passphrase, which makes it again. Nothing was changed.");
        }
        return new RecoveryWrapFile(
            Encoding.ASCII.GetString(file, 10, NetworkIdSize),
            file[RecoveryKeyStart..nonceStart],
            file[..nonceStart],
            file[nonceStart..(nonceStart + GcmNonceSize)],
            file[(nonceStart + GcmNonceSize)..(nonceStart + GcmNonceSize + Sodium.SecretKeyBytes)],
            file[(nonceStart + GcmNonceSize + Sodium.SecretKeyBytes)..]);
    }

    private static RuleViolation NoRecoveryWrap() => new(RefusalKind.FailedPrecondition, Rules.SealedAtRest,
        "This node's storage key has no recovery wrap, so the network key cannot recover it: the wrap is made when the key is set up or unlocked "
        + "while the network key is off the server (solnet network init). Nothing was changed.");
}
