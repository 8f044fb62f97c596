using System.Security.Cryptography;

namespace Federation.Core.Identity;

/// <summary>
/// This node's key to be encrypted to (issue 18, docs/adr/0027): an ECDH P-256 key kept in
/// the data folder beside <c>node.key</c>, separate from the signing key, so the signing
/// algorithm can change without touching it. Its public half travels in Hello, signed by the
/// node key (<see cref="Federation.Core.Relay.RelayFormat.SignSealingKey"/>).
/// </summary>
public sealed class SealingKey : IDisposable
{
    public const string KeyFile = "sealing.key";

    private readonly ECDiffieHellman _key;

    private SealingKey(ECDiffieHellman key)
    {
        _key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
    }

    /// <summary>SubjectPublicKeyInfo (DER).</summary>
    public byte[] PublicKey { get; }

    /// <summary>The private half, for the one agreement that opens a parcel.</summary>
    public ECParameters Private => _key.ExportParameters(true);

    public static SealingKey LoadOrCreate(string dataDir)
    {
        var path = Path.Combine(dataDir, KeyFile);
        if (!File.Exists(path))
        {
            using var made = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            NodeIdentity.WriteAtomically(path, made.ExportPkcs8PrivateKeyPem());
        }
        var key = ECDiffieHellman.Create();
        key.ImportFromPem(File.ReadAllText(path));
        return new SealingKey(key);
    }

    public void Dispose() => _key.Dispose();
}
