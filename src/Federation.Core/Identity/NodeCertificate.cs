using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Identity;

/// <summary>
/// The node's TLS certificate: self-signed over the node's identity key, so the key a
/// peer sees in the TLS handshake is the very key it pinned when its operator added this
/// node. No certificate authority is involved on either side: a certificate is trusted
/// because its key hashes to the node id expected at that address, and for no other reason.
/// </summary>
public static class NodeCertificate
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");


    /// <summary>
    /// A fresh certificate for <paramref name="key"/>, usable both to serve and to call
    /// (one certificate, because one key is the node's whole identity).
    /// </summary>
    /// <param name="certified">The network's certificate for <paramref name="key"/>, if the network key is off the server.</param>
    public static X509Certificate2 Create(SigningKey key, string nodeId, IEnumerable<string> hostNames, CertifiedKey? certified = null)
    {
        // An Ed25519 node key cannot be an X.509 certificate's key here: the certificate
        // holds a P-256 key made for this process, and the node key's signature over it.
        using var tlsOnly = key.Ecdsa is null ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        var tlsKey = key.Ecdsa ?? tlsOnly!;
        var request = new CertificateRequest($"CN=solnet node {Identifiers.Fingerprint(nodeId)}", tlsKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], false));
        // Names are not what peers check (they check the key), but a well-formed
        // certificate names the hosts it serves, for tools that look.
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hostNames.Where(h => !string.IsNullOrWhiteSpace(h)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                names.AddIpAddress(ip);
            }
            else
            {
                names.AddDnsName(host);
            }
        }
        request.CertificateExtensions.Add(names.Build());
        if (certified is not null)
        {
            request.CertificateExtensions.Add(new X509Extension(NetworkSignatures.TlsExtensionOid, certified.ToByteArray(), critical: false));
        }
        if (tlsOnly is not null)
        {
            request.CertificateExtensions.Add(new X509Extension(NetworkSignatures.TlsKeyBindingOid,
                key.Sign(SignedKind.TlsKey, tlsOnly.ExportSubjectPublicKeyInfo()), critical: false));
            if (certified is null)
            {
                // An Ed25519 network key still on the server: no certificate names the network, so the key itself rides along.
                request.CertificateExtensions.Add(new X509Extension(NetworkSignatures.TlsNetworkKeyOid, key.PublicKey, critical: false));
            }
        }
        // Made anew at every start, so validity is not what keeps it safe (peers ignore
        // dates and check the key); long enough that no tool trips over expiry.
        var now = DateTimeOffset.UtcNow;
        using var made = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        // Round-trip through PKCS#12: a certificate holding an ephemeral key is not usable
        // by SslStream on every platform (Windows needs a persisted key).
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>
    /// The network a TLS certificate speaks for, or null if it holds no P-256 ECDSA key: the
    /// hash of its key, or, for a certified node key, the network its certificate names once
    /// that certificate checks out for this very key, is in its validity period now and is
    /// not revoked (with <paramref name="keys"/>, which knows the revocations).
    /// </summary>
    public static string? NodeIdOf(X509Certificate? certificate, PeerKeys? keys = null, DateTimeOffset? now = null)
    {
        if (certificate is null)
        {
            return null;
        }
        // TLS callbacks hand over the base type; reading the key needs an X509Certificate2.
        using var copy = certificate is X509Certificate2 ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (NetworkSignatures.NetworkOf(copy ?? (X509Certificate2)certificate, now ?? DateTimeOffset.UtcNow, out var networkId) is not { } network)
        {
            return networkId;
        }
        return keys?.RevokedSince(network.NetworkId, network.KeyId) is { } since && (now ?? DateTimeOffset.UtcNow) >= since ? null : network.NetworkId;
    }
}
