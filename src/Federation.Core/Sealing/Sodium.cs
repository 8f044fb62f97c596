using System.Runtime.InteropServices;

namespace Federation.Core.Sealing;

/// <summary>
/// The few libsodium functions NSec does not wrap: sealed boxes (anonymous encryption to a
/// public key, so a locked node can seal without its private key) and guarded memory (the
/// private key outside the managed heap, locked in RAM, zeroed when freed). The library is
/// the one NSec ships and loads; nothing here is a cipher of our own.
/// </summary>
internal static partial class Sodium
{
    private const string Library = "libsodium";

    public const int PublicKeyBytes = 32;
    public const int SecretKeyBytes = 32;
    public const int SealOverhead = 32 + 16;

    static Sodium()
    {
        if (sodium_init() < 0)
        {
            throw new InvalidOperationException("libsodium could not be initialised.");
        }
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    public static partial int crypto_box_keypair(Span<byte> publicKey, IntPtr secretKey);

    [LibraryImport(Library)]
    public static partial int crypto_box_seal(Span<byte> sealedBox, ReadOnlySpan<byte> message, ulong length, ReadOnlySpan<byte> publicKey);

    [LibraryImport(Library)]
    public static partial int crypto_box_seal_open(Span<byte> message, ReadOnlySpan<byte> sealedBox, ulong length, ReadOnlySpan<byte> publicKey, IntPtr secretKey);

    [LibraryImport(Library)]
    public static partial int crypto_scalarmult_base(Span<byte> publicKey, IntPtr secretKey);

    [LibraryImport(Library)]
    public static partial IntPtr sodium_malloc(nuint size);

    [LibraryImport(Library)]
    public static partial void sodium_free(IntPtr pointer);

    public static void Init()
    {
        // Running the static constructor is the point.
    }
}
