using System.Security.Cryptography;
using Federation.Domain;

namespace Federation.Node.Identity;

/// <summary>
/// This node's signing key, created on first start and kept in the data folder.
/// The node id is derived from the public key, so the key *is* the identity.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    private readonly ECDsa _key;

    private NodeIdentity(ECDsa key)
    {
        _key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
        NodeId = Identifiers.NodeIdFromPublicKey(PublicKey);
    }

    public string NodeId { get; }
    public string Fingerprint => Identifiers.Fingerprint(NodeId);
    public byte[] PublicKey { get; }

    public static NodeIdentity LoadOrCreate(string dataDir)
    {
        var path = Path.Combine(dataDir, "node.key");
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            key.GenerateKey(ECCurve.NamedCurves.nistP256);
            var tmp = path + ".tmp";
            File.WriteAllText(tmp, key.ExportPkcs8PrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            // Rename so a crash mid-write never leaves a half key that would change the node's identity.
            File.Move(tmp, path);
        }
        return new NodeIdentity(key);
    }

    public byte[] Sign(ReadOnlySpan<byte> data) => _key.SignData(data, HashAlgorithmName.SHA256);

    public void Dispose() => _key.Dispose();
}
