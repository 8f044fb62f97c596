using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Federation.Domain;

namespace Federation.Core.Identity;

/// <summary>
/// This node's signing key, created on first start and kept in the data folder.
/// The node id is derived from the public key, so the key *is* the identity.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    private readonly ECDsa _key;
    private readonly Lazy<X509Certificate2> _certificate;

    private NodeIdentity(ECDsa key, IReadOnlyList<string> hostNames)
    {
        _key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
        NodeId = Identifiers.NodeIdFromPublicKey(PublicKey);
        _certificate = new(() => NodeCertificate.Create(_key, NodeId, hostNames));
    }

    public string NodeId { get; }
    public string Fingerprint => Identifiers.Fingerprint(NodeId);
    public byte[] PublicKey { get; }

    /// <summary>The TLS certificate over this key, served and presented to peers; made on first use.</summary>
    public X509Certificate2 Certificate => _certificate.Value;

    /// <param name="hostNames">Names the TLS certificate lists as its hosts (informational: peers check the key).</param>
    public static NodeIdentity LoadOrCreate(string dataDir, IReadOnlyList<string>? hostNames = null)
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
        return new NodeIdentity(key, hostNames ?? []);
    }

    public byte[] Sign(ReadOnlySpan<byte> data) => _key.SignData(data, HashAlgorithmName.SHA256);

    public void Dispose()
    {
        if (_certificate.IsValueCreated)
        {
            _certificate.Value.Dispose();
        }
        _key.Dispose();
    }
}
