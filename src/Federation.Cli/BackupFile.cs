using System.Buffers.Binary;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace Federation.Cli;

/// <summary>
/// The encrypted backup file (adr/0015): a versioned header, then the archive encrypted with
/// XChaCha20-Poly1305 under a key derived from the passphrase with Argon2id. libsodium does
/// the cryptography (through NSec); this class only lays out the bytes.
/// </summary>
/// <remarks>
/// Header, little-endian: magic "SOLNETBK", format version (u16), KDF id (u8, 1 = Argon2id),
/// cipher id (u8, 1 = XChaCha20-Poly1305), Argon2 memory in KiB (u32), passes (u32),
/// parallelism (u32), salt (16 bytes), key-check nonce (24) and tag (16), payload nonce (24).
/// The key check is the cipher's tag over nothing, so a wrong passphrase is told apart from
/// a damaged file; the payload's associated data is the whole header, so no header byte can
/// be changed unnoticed.
/// </remarks>
public static class BackupFile
{
    public const int FormatVersion = 1;
    private const byte Argon2idId = 1;
    private const byte XChaCha20Poly1305Id = 1;
    private static readonly byte[] Magic = "SOLNETBK"u8.ToArray();
    private static readonly byte[] KeyCheckContext = "solnet backup key check v1"u8.ToArray();

    private const int SaltSize = 16;
    private const int NonceSize = 24;
    private const int TagSize = 16;
    private const int ParametersEnd = 8 + 2 + 1 + 1 + 4 + 4 + 4;
    private const int KeyCheckStart = ParametersEnd + SaltSize;
    public const int HeaderSize = KeyCheckStart + NonceSize + TagSize + NonceSize;

    /// <summary>
    /// 64 MiB and 3 passes: about 0.2 s on this project's machines, and costly to guess at
    /// in bulk (RFC 9106's second recommended option uses 64 MiB).
    /// </summary>
    public static readonly Argon2Parameters Default = new() { MemorySize = 64 * 1024, NumberOfPasses = 3, DegreeOfParallelism = 1 };

    // Bounds for a file's parameters: a damaged or hostile header must not make solnet
    // allocate gigabytes or spin for hours before the key check can fail.
    private const uint MaxMemoryKiB = 1024 * 1024;
    private const uint MaxPasses = 32;

    private static AeadAlgorithm Cipher => AeadAlgorithm.XChaCha20Poly1305;

    public static byte[] Encrypt(byte[] archive, string passphrase) => Encrypt(archive, passphrase, Default);

    public static byte[] Encrypt(byte[] archive, string passphrase, Argon2Parameters parameters)
    {
        var header = new byte[HeaderSize];
        Magic.CopyTo(header, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), FormatVersion);
        header[10] = Argon2idId;
        header[11] = XChaCha20Poly1305Id;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)parameters.MemorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), (uint)parameters.NumberOfPasses);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), (uint)parameters.DegreeOfParallelism);
        RandomNumberGenerator.Fill(header.AsSpan(ParametersEnd, SaltSize));
        RandomNumberGenerator.Fill(header.AsSpan(KeyCheckStart, NonceSize));
        RandomNumberGenerator.Fill(header.AsSpan(HeaderSize - NonceSize, NonceSize));

        using var key = DeriveKey(passphrase, header, parameters);
        var check = Cipher.Encrypt(key, header.AsSpan(KeyCheckStart, NonceSize), KeyCheckAssociatedData(header), []);
        check.CopyTo(header, KeyCheckStart + NonceSize);

        var sealedArchive = Cipher.Encrypt(key, header.AsSpan(HeaderSize - NonceSize, NonceSize), header, archive);
        return [.. header, .. sealedArchive];
    }

    /// <summary>The archive, or a <see cref="RefusedException"/> saying whether the passphrase or the file is wrong.</summary>
    public static byte[] Decrypt(byte[] file, string passphrase, string name, string nothingDone = "nothing was restored")
    {
        if (file.Length < HeaderSize + TagSize || !file.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new RefusedException($"{name} is not a solnet backup (or its start is damaged); {nothingDone}.");
        }
        var version = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        if (version != FormatVersion || file[10] != Argon2idId || file[11] != XChaCha20Poly1305Id)
        {
            throw new RefusedException($"{name} is a solnet backup of format {version}, which this solnet does not read: use the solnet release that made it, or a newer one; {nothingDone}.");
        }
        var memory = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12));
        var passes = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(16));
        var parallelism = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20));
        if (memory is < 8 or > MaxMemoryKiB || passes is < 1 or > MaxPasses || parallelism != 1)
        {
            throw new RefusedException($"{name} is damaged: its key-derivation settings are out of range; use another copy. {char.ToUpperInvariant(nothingDone[0])}{nothingDone[1..]}.");
        }
        var header = file.AsSpan(0, HeaderSize).ToArray();
        var parameters = new Argon2Parameters { MemorySize = (int)memory, NumberOfPasses = (int)passes, DegreeOfParallelism = (int)parallelism };
        using var key = DeriveKey(passphrase, header, parameters);
        // Decrypt answers null when the tag does not verify.
        if (Cipher.Decrypt(key, header.AsSpan(KeyCheckStart, NonceSize), KeyCheckAssociatedData(header),
                header.AsSpan(KeyCheckStart + NonceSize, TagSize)) is null)
        {
            throw new RefusedException($"Wrong passphrase for {name} (or its header is damaged); {nothingDone}.");
        }
        var archive = Cipher.Decrypt(key, header.AsSpan(HeaderSize - NonceSize, NonceSize), header, file.AsSpan(HeaderSize));
        if (archive is null)
        {
            throw new RefusedException($"{name} is damaged: the passphrase is right but its contents do not check out; use another copy. {char.ToUpperInvariant(nothingDone[0])}{nothingDone[1..]}.");
        }
        return archive;
    }

    private static Key DeriveKey(string passphrase, byte[] header, Argon2Parameters parameters) =>
        PasswordBasedKeyDerivationAlgorithm.Argon2id(parameters)
            .DeriveKey(passphrase, header.AsSpan(ParametersEnd, SaltSize), Cipher);

    /// <summary>The header up to the key check: the check vouches for the salt and parameters too.</summary>
    private static byte[] KeyCheckAssociatedData(byte[] header) => [.. KeyCheckContext, .. header.AsSpan(0, KeyCheckStart)];
}
