using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Identity;

/// <summary>
/// The key this node signs with now, and what vouches for it: its network's certificate
/// (docs/adr/0022), or nothing when the key is the network's own (a node whose network key
/// was never moved off the server, as every node of 0.1.0).
/// </summary>
public sealed class NodeKey : IDisposable
{
    private readonly SigningKey _key;
    private readonly Lazy<X509Certificate2> _tls;

    internal NodeKey(SigningKey key, CertifiedKey? certificate, CheckedCertificate? checkedCertificate, IReadOnlyList<string> hostNames)
    {
        _key = key;
        PublicKey = key.PublicKey;
        KeyId = Identifiers.NodeIdFromPublicKey(PublicKey);
        Certificate = certificate;
        Checked = checkedCertificate;
        var networkId = checkedCertificate?.NetworkId ?? KeyId;
        _tls = new(() => NodeCertificate.Create(_key, networkId, hostNames, certificate));
    }

    public byte[] PublicKey { get; }

    /// <summary>What this key signs with; what signs is named on the wire beside each signature.</summary>
    public SignatureAlgorithm Algorithm => _key.Algorithm;

    /// <summary>The hash of this key, in node-id form: what a revocation names.</summary>
    public string KeyId { get; }

    public CertifiedKey? Certificate { get; }
    public CheckedCertificate? Checked { get; }

    /// <summary>The TLS certificate over this key, served and presented to peers; made on first use.</summary>
    public X509Certificate2 Tls => _tls.Value;

    /// <summary>A signature of <paramref name="kind"/> over <paramref name="data"/> (docs/adr/0028).</summary>
    public byte[] Sign(SignedKind kind, ReadOnlySpan<byte> data) => _key.Sign(kind, data);

    public void Dispose()
    {
        // Not the TLS certificate: a connection made before a rotation may still hold it.
        _key.Dispose();
    }
}

/// <summary>
/// This node's identity: the network it speaks for and the key it signs with, kept in the
/// data folder's <c>node.key</c>. A node started with no key creates one, which is then its
/// network's key too, on the server, until <c>solnet network init</c> moves it off and
/// leaves a node key certified by it (docs/adr/0022). The network id never changes: it is
/// the hash of the network key, as a node id always was.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    public const string KeyFile = "node.key";
    private const string NextKeyFile = "node.key.next";

    private readonly string _dataDir;
    private readonly IReadOnlyList<string> _hostNames;
    private readonly object _installing = new();
    private volatile NodeKey _current;

    private NodeIdentity(string dataDir, NodeKey current, IReadOnlyList<string> hostNames)
    {
        _dataDir = dataDir;
        _hostNames = hostNames;
        _current = current;
        NodeId = current.Checked?.NetworkId ?? current.KeyId;
        PublicKey = current.Checked?.NetworkPublicKey ?? current.PublicKey;
    }

    /// <summary>The network's id: the hash of its network key; what peers pin and object ids begin with.</summary>
    public string NodeId { get; }
    public string Fingerprint => Identifiers.Fingerprint(NodeId);

    /// <summary>The network key's public half (what Identify hands out and peers pin).</summary>
    public byte[] PublicKey { get; }

    /// <summary>What the network key signs with: what signed this node's items that carry no certificate.</summary>
    public SignatureAlgorithm Algorithm => Signatures.AlgorithmOf(PublicKey);

    /// <summary>The key signing now; take it once and sign and attach its certificate from the same one.</summary>
    public NodeKey Current => _current;

    /// <summary>Whether the network key is off this server (a certified node key signs here).</summary>
    public bool IsCertified => _current.Certificate is not null;

    /// <summary>The TLS certificate over the current key.</summary>
    public X509Certificate2 Certificate => _current.Tls;

    public byte[] Sign(SignedKind kind, ReadOnlySpan<byte> data) => _current.Sign(kind, data);

    /// <param name="hostNames">Names the TLS certificate lists as its hosts (informational: peers check the key).</param>
    /// <param name="networkKeyAlgorithm">
    /// What a key made here, the network's own until <c>solnet network init</c> moves it off,
    /// signs with (Node:NetworkKeyAlgorithm). Its hash is the network's id for good, so only
    /// the first start reads this: ECDSA P-256 is for a network that must peer with release
    /// 0.1.0 nodes, which verify nothing else (docs/adr/0029).
    /// </param>
    public static NodeIdentity LoadOrCreate(string dataDir, IReadOnlyList<string>? hostNames = null, SignatureAlgorithm networkKeyAlgorithm = SignatureAlgorithm.Ed25519)
    {
        var path = Path.Combine(dataDir, KeyFile);
        if (!File.Exists(path))
        {
            using var made = SigningKey.Create(networkKeyAlgorithm);
            WriteAtomically(path, made.ExportPkcs8Pem());
        }
        return new NodeIdentity(dataDir, Read(File.ReadAllText(path), hostNames ?? []), hostNames ?? []);
    }

    /// <summary>The key and certificate a <c>node.key</c> file holds; refuses a certificate that is not for its key.</summary>
    public static NodeKey Read(string pem, IReadOnlyList<string> hostNames)
    {
        var key = SigningKey.FromPem(pem);
        if (NodeKeyFile.CertificateIn(pem) is not { } certificate)
        {
            return new NodeKey(key, null, null, hostNames);
        }
        var checkedCertificate = NetworkSignatures.Check(certificate);
        if (!checkedCertificate.NodePublicKey.AsSpan().SequenceEqual(key.PublicKey))
        {
            throw new InvalidKeyCertificateException("the certificate in node.key is not for the key beside it");
        }
        return new NodeKey(key, certificate, checkedCertificate, hostNames);
    }

    /// <summary>
    /// The public half of the key this node will sign with once its network certifies it
    /// (<c>solnet key rotate</c>): made once and kept in the data folder, so asking again,
    /// or a restart between asking and installing, gives the same key. A waiting key of
    /// another algorithm than <paramref name="algorithm"/> is replaced: no certificate
    /// names it yet, or its install would have removed it.
    /// </summary>
    public byte[] NextPublicKey(SignatureAlgorithm algorithm = SignatureAlgorithm.EcdsaP256Sha256)
    {
        lock (_installing)
        {
            using var next = NextKey(algorithm)!;
            return next.PublicKey;
        }
    }

    private SigningKey? NextKey(SignatureAlgorithm? algorithm)
    {
        var path = Path.Combine(_dataDir, NextKeyFile);
        if (File.Exists(path))
        {
            var waiting = SigningKey.FromPem(File.ReadAllText(path));
            if (algorithm is null || waiting.Algorithm == algorithm)
            {
                return waiting;
            }
            waiting.Dispose();
        }
        if (algorithm is null)
        {
            return null;
        }
        var key = SigningKey.Create(algorithm.Value);
        WriteAtomically(path, key.ExportPkcs8Pem());
        return key;
    }

    /// <summary>
    /// Switches to the next key, which <paramref name="certificate"/> certifies for this
    /// node's network: written to <c>node.key</c> in one rename (a crash leaves the old
    /// key or the new one, never half of either), then signing with it at once. The key it
    /// replaces is gone from the disk; what it signed keeps verifying under its certificate.
    /// Throws <see cref="InvalidKeyCertificateException"/> saying why a certificate does not fit.
    /// </summary>
    public CheckedCertificate Install(CertifiedKey certificate)
    {
        lock (_installing)
        {
            var checkedCertificate = NetworkSignatures.Check(certificate);
            if (checkedCertificate.NetworkId != NodeId)
            {
                throw new InvalidKeyCertificateException(
                    $"the certificate is for network {Identifiers.ShortFingerprint(checkedCertificate.NetworkId)}, and this node speaks for {Identifiers.ShortFingerprint(NodeId)}");
            }
            if (!File.Exists(Path.Combine(_dataDir, NextKeyFile)))
            {
                throw new InvalidKeyCertificateException("this node has no next key waiting: ask for it first (solnet key rotate does)");
            }
            var next = NextKey(null)!;
            if (!checkedCertificate.NodePublicKey.AsSpan().SequenceEqual(next.PublicKey))
            {
                next.Dispose();
                throw new InvalidKeyCertificateException("the certificate is not for the key this node has waiting");
            }
            if (_current.Checked is { } now && checkedCertificate.Serial <= now.Serial)
            {
                next.Dispose();
                throw new InvalidKeyCertificateException(
                    $"the certificate's serial {checkedCertificate.Serial} is not after the one in use ({now.Serial}): an old certificate cannot come back");
            }
            WriteAtomically(Path.Combine(_dataDir, KeyFile), NodeKeyFile.Text(next, certificate));
            File.Delete(Path.Combine(_dataDir, NextKeyFile));
            // The replaced key is not disposed: a signature in progress on another thread may hold it.
            _current = new NodeKey(next, certificate, checkedCertificate, _hostNames);
            return checkedCertificate;
        }
    }

    /// <summary>Writes through a temporary file and a rename, readable by the owner only.</summary>
    public static void WriteAtomically(string path, string text)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public void Dispose() => _current.Dispose();
}
