using System.Buffers.Binary;
using System.Security.Cryptography;
using Federation.Contracts.V1;
using Federation.Domain;
using NSec.Cryptography;

namespace Federation.Core.Sealing;

/// <summary>
/// The node's storage key (issue 24, docs/adr/0021): what lets a seized disk yield no
/// identities. Confidential values are stored as libsodium sealed boxes to the key's public
/// half, which rests on disk, so a locked node still seals what arrives. The private half
/// rests only wrapped under the operator's passphrase (Argon2id, XChaCha20-Poly1305), and
/// is in memory, in libsodium's guarded memory, only while the node is unlocked.
/// </summary>
public sealed partial class StorageVault : IDisposable
{
    public const string PublicFile = "storage.pub";
    public const string WrappedFile = "storage.key";

    /// <summary>How a sealed value begins. No value stored before sealing can: as protobuf, 0x53 would open a group, which these messages never use.</summary>
    private static readonly byte[] SealedMarker = "SLD\u0001"u8.ToArray();
    private static readonly byte[] WrapMagic = "SOLNETSK"u8.ToArray();
    private const int WrapVersion = 1;
    private const int SaltSize = 16;
    private const int NonceSize = 24;
    private const int ParametersEnd = 8 + 2 + 4 + 4;
    private const int NonceStart = ParametersEnd + SaltSize;
    private const int WrapHeaderSize = NonceStart + NonceSize;

    /// <summary>As for backups (adr/0015): 64 MiB and 3 passes, about 0.2 s here and costly to guess at in bulk.</summary>
    private static readonly Argon2Parameters Argon = new() { MemorySize = 64 * 1024, NumberOfPasses = 3, DegreeOfParallelism = 1 };

    private static AeadAlgorithm Cipher => AeadAlgorithm.XChaCha20Poly1305;

    private readonly string _dataDir;
    private readonly Func<byte[]?> _recoveryTo;
    private readonly Lock _gate = new();
    private byte[]? _publicKey;
    private IntPtr _secret;

    /// <param name="recoveryTo">
    /// The network key's public half (a SubjectPublicKeyInfo) when it is kept off the server,
    /// else null: the storage key is then wrapped to it as well, for recovery (docs/adr/0026).
    /// </param>
    public StorageVault(string dataDir, Func<byte[]?>? recoveryTo = null)
    {
        Sodium.Init();
        _dataDir = dataDir;
        _recoveryTo = recoveryTo ?? (() => null);
        _publicKey = PublicKeyIfSetUp();
    }

    /// <summary>Read again while there is none: an operator may copy the key into a replica's folder while it runs.</summary>
    private byte[]? PublicKeyIfSetUp()
    {
        var path = Path.Combine(_dataDir, PublicFile);
        return File.Exists(path) ? ReadPublicKey(path) : null;
    }

    /// <summary>Whether the node has a storage key at all (an operator set a passphrase).</summary>
    public bool HasKey => (_publicKey ??= PublicKeyIfSetUp()) is not null;

    public bool Unlocked
    {
        get
        {
            lock (_gate)
            {
                return _secret != IntPtr.Zero;
            }
        }
    }

    public StorageState State => !HasKey ? StorageState.NoKey : Unlocked ? StorageState.Unlocked : StorageState.Locked;

    /// <summary>Said of every read of a sealed value while the node is locked.</summary>
    public static RuleViolation Locked() => new(RefusalKind.FailedPrecondition, Rules.SealedAtRest,
        "The node is locked: an operator must unlock it (solnet unlock) before sealed details can be read. It keeps federating and sealing what arrives meanwhile.");

    private static RuleViolation NoKey() => new(RefusalKind.FailedPrecondition, Rules.SealedAtRest,
        "This node has no storage key yet: an operator sets one up with `solnet unlock --new`.");

    public static bool IsSealed(ReadOnlySpan<byte> stored) => stored.StartsWith(SealedMarker);

    /// <summary>False when <paramref name="bytes"/> (an envelope, say) cannot hold a sealed value anywhere: a quick test before parsing it.</summary>
    public static bool MayHoldSealed(ReadOnlySpan<byte> bytes) => bytes.IndexOf(SealedMarker) >= 0;

    /// <summary>
    /// Seals a value for the disk; needs only the public half, so it works locked. A node
    /// with no key yet keeps the value as it is, and says so at every start and in `solnet
    /// info` (refusing would turn a partner's referral into a dead letter); setting the key
    /// up seals it in place.
    /// </summary>
    public byte[] Seal(ReadOnlySpan<byte> clear)
    {
        if ((_publicKey ??= PublicKeyIfSetUp()) is not { } publicKey)
        {
            return clear.ToArray();
        }
        var sealedValue = new byte[SealedMarker.Length + Sodium.SealOverhead + clear.Length];
        SealedMarker.CopyTo(sealedValue, 0);
        if (Sodium.crypto_box_seal(sealedValue.AsSpan(SealedMarker.Length), clear, (ulong)clear.Length, publicKey) != 0)
        {
            throw new CryptographicException("libsodium could not seal a value.");
        }
        return sealedValue;
    }

    /// <summary>The value as it was given to <see cref="Seal"/>; a value stored before sealing began comes back as it is.</summary>
    public byte[] Open(byte[] stored) => TryOpen(stored, out var clear) ? clear : throw Locked();

    /// <summary>False only when the value is sealed and the node is locked.</summary>
    public bool TryOpen(byte[] stored, out byte[] clear)
    {
        if (!IsSealed(stored))
        {
            clear = stored;
            return true;
        }
        var box = stored.AsSpan(SealedMarker.Length);
        if (box.Length < Sodium.SealOverhead)
        {
            throw new CryptographicException("A sealed value is damaged (too short).");
        }
        lock (_gate)
        {
            if (_secret == IntPtr.Zero)
            {
                clear = [];
                return false;
            }
            clear = new byte[box.Length - Sodium.SealOverhead];
            if (Sodium.crypto_box_seal_open(clear, box, (ulong)box.Length, _publicKey, _secret) != 0)
            {
                throw new CryptographicException("A sealed value does not open with this node's storage key: it is damaged, or was sealed by another node.");
            }
            return true;
        }
    }

    /// <summary>Makes the storage key, wraps its private half under <paramref name="passphrase"/>, and leaves the node unlocked.</summary>
    public void Create(string passphrase)
    {
        CheckPassphrase(passphrase);
        lock (_gate)
        {
            if (HasKey)
            {
                throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SealedAtRest,
                    "This node has a storage key already: unlock it with its passphrase (solnet unlock), or change that with solnet unlock --change.");
            }
            var secret = Guarded();
            var publicKey = new byte[Sodium.PublicKeyBytes];
            Sodium.crypto_box_keypair(publicKey, secret);
            // The wrapped private half first: a crash between the two leaves no public key, so nothing is sealed to a key that was never kept.
            WriteAtomically(Path.Combine(_dataDir, WrappedFile), Wrap(secret, publicKey, passphrase));
            WriteAtomically(Path.Combine(_dataDir, PublicFile), System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(publicKey) + "\n"));
            _publicKey = publicKey;
            Replace(secret);
            KeepRecoveryWrap(secret);
        }
    }

    /// <summary>Unwraps the private half into guarded memory. A wrong passphrase changes nothing.</summary>
    public void Unlock(string passphrase)
    {
        lock (_gate)
        {
            var secret = UnwrapChecked(passphrase);
            Replace(secret);
            KeepRecoveryWrap(secret);
        }
    }

    /// <summary>Re-wraps the private half under a new passphrase; nothing sealed is touched.</summary>
    public void ChangePassphrase(string current, string next)
    {
        CheckPassphrase(next);
        lock (_gate)
        {
            var secret = UnwrapChecked(current);
            WriteAtomically(Path.Combine(_dataDir, WrappedFile), Wrap(secret, _publicKey!, next));
            Replace(secret);
            KeepRecoveryWrap(secret);
        }
    }

    /// <summary>The panic lock: the private half leaves memory at once (libsodium zeroes it as it frees it).</summary>
    public void Lock()
    {
        lock (_gate)
        {
            Replace(IntPtr.Zero);
        }
    }

    public void Dispose() => Lock();

    private IntPtr UnwrapChecked(string passphrase)
    {
        var publicKey = _publicKey ?? throw NoKey();
        var wrapped = File.ReadAllBytes(Path.Combine(_dataDir, WrappedFile));
        if (wrapped.Length != WrapHeaderSize + Sodium.SecretKeyBytes + Cipher.TagSize || !wrapped.AsSpan(0, 8).SequenceEqual(WrapMagic)
            || BinaryPrimitives.ReadUInt16LittleEndian(wrapped.AsSpan(8)) != WrapVersion)
        {
            throw new InvalidOperationException($"{WrappedFile} in the data folder is damaged or of another format; restore it from a backup.");
        }
        var parameters = new Argon2Parameters
        {
            MemorySize = (int)BinaryPrimitives.ReadUInt32LittleEndian(wrapped.AsSpan(10)),
            NumberOfPasses = (int)BinaryPrimitives.ReadUInt32LittleEndian(wrapped.AsSpan(14)),
            DegreeOfParallelism = 1,
        };
        using var key = PasswordBasedKeyDerivationAlgorithm.Argon2id(parameters).DeriveKey(passphrase, wrapped.AsSpan(ParametersEnd, SaltSize), Cipher);
        var secret = Guarded();
        bool opened;
        unsafe
        {
            opened = Cipher.Decrypt(key, wrapped.AsSpan(NonceStart, NonceSize), AssociatedData(wrapped, publicKey), wrapped.AsSpan(WrapHeaderSize),
                new Span<byte>((void*)secret, Sodium.SecretKeyBytes));
        }
        var derived = new byte[Sodium.PublicKeyBytes];
        if (!opened || Sodium.crypto_scalarmult_base(derived, secret) != 0 || !derived.AsSpan().SequenceEqual(publicKey))
        {
            Sodium.sodium_free(secret);
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.SealedAtRest, "Wrong passphrase for this node's storage key; the node stays as it was.");
        }
        return secret;
    }

    private static byte[] Wrap(IntPtr secret, byte[] publicKey, string passphrase)
    {
        var wrapped = new byte[WrapHeaderSize + Sodium.SecretKeyBytes + Cipher.TagSize];
        WrapMagic.CopyTo(wrapped, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(wrapped.AsSpan(8), WrapVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(wrapped.AsSpan(10), (uint)Argon.MemorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(wrapped.AsSpan(14), (uint)Argon.NumberOfPasses);
        RandomNumberGenerator.Fill(wrapped.AsSpan(ParametersEnd, SaltSize + NonceSize));
        using var key = PasswordBasedKeyDerivationAlgorithm.Argon2id(Argon).DeriveKey(passphrase, wrapped.AsSpan(ParametersEnd, SaltSize), Cipher);
        unsafe
        {
            Cipher.Encrypt(key, wrapped.AsSpan(NonceStart, NonceSize), AssociatedData(wrapped, publicKey),
                new ReadOnlySpan<byte>((void*)secret, Sodium.SecretKeyBytes), wrapped.AsSpan(WrapHeaderSize));
        }
        return wrapped;
    }

    /// <summary>The header and the public key: neither can be swapped without the unwrap failing.</summary>
    private static byte[] AssociatedData(byte[] wrapped, byte[] publicKey) => [.. wrapped.AsSpan(0, NonceStart), .. publicKey];

    private static IntPtr Guarded()
    {
        var pointer = Sodium.sodium_malloc(Sodium.SecretKeyBytes);
        return pointer != IntPtr.Zero ? pointer : throw new OutOfMemoryException("libsodium could not allocate guarded memory for the storage key.");
    }

    private void Replace(IntPtr secret)
    {
        if (_secret != IntPtr.Zero)
        {
            Sodium.sodium_free(_secret);
        }
        _secret = secret;
    }

    private static void CheckPassphrase(string passphrase)
    {
        if (passphrase.Length < 8)
        {
            throw RuleViolation.Invalid("A storage passphrase must be at least 8 characters; it is all that stands between a seized disk and the people in your fights.");
        }
    }

    private static byte[] ReadPublicKey(string path)
    {
        var key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        return key.Length == Sodium.PublicKeyBytes ? key : throw new InvalidOperationException($"{path} is not a storage public key; restore it from a backup.");
    }

    private static void WriteAtomically(string path, byte[] content)
    {
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
