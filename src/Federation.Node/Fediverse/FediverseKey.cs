using System.Security.Cryptography;
using Federation.Core.Storage;

namespace Federation.Node.Fediverse;

/// <summary>
/// The actor's RSA-2048 key, the kind every fediverse server checks (ADR 24). Made once and
/// kept in the database, so every replica of a node signs as the same actor; it is a key
/// for public posts only, apart from the node's identity key, so it is not sealed.
/// </summary>
public sealed class FediverseKey(IFederationStore store) : IDisposable
{
    private RSA? _rsa;
    private readonly Lock _gate = new();

    public RSA Rsa
    {
        get
        {
            lock (_gate)
            {
                return _rsa ??= Load();
            }
        }
    }

    public string PublicKeyPem => Rsa.ExportSubjectPublicKeyInfoPem();

    private RSA Load()
    {
        var pem = store.FediverseKey();
        if (pem is null)
        {
            using var fresh = RSA.Create(2048);
            var made = fresh.ExportPkcs8PrivateKeyPem();
            pem = store.WriteAsync(tx => tx.PutFediverseKeyIfAbsent(made)).GetAwaiter().GetResult();
        }
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return rsa;
    }

    public void Dispose() => _rsa?.Dispose();
}
