using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Federation.Node.Fediverse;

/// <summary>What a signed request says: which key signed it, and whether the bytes match.</summary>
public sealed record SignatureClaim(string KeyId, Func<RSA, bool> Verify);

/// <summary>
/// HTTP Signatures as the fediverse sends them: draft-cavage-http-signatures-12 (Mastodon,
/// and Fedify's first try) and RFC 9421 (Fedify and newer servers). Parsing and checking
/// only; the key is looked up by the caller. Outgoing requests are signed the cavage way,
/// which every server takes.
/// See https://docs.joinmastodon.org/spec/security/ and https://www.rfc-editor.org/rfc/rfc9421.
/// </summary>
public static class HttpSignatures
{
    /// <summary>How far a signature's date may be from now: Mastodon's own window.</summary>
    public static readonly TimeSpan Skew = TimeSpan.FromHours(1);

    /// <summary>
    /// Reads the request's signature and checks its body digest and date. Returns an error a
    /// sender's operator can act on, or the claim to verify with the key it names.
    /// </summary>
    public static (SignatureClaim? Claim, string? Error) Read(string method, Uri target, IReadOnlyDictionary<string, string> headers,
        byte[] body, DateTimeOffset now)
    {
        if (headers.TryGetValue("signature-input", out var input) && headers.TryGetValue("signature", out var sig9421))
        {
            return ReadRfc9421(method, target, headers, body, now, input, sig9421);
        }
        if (headers.TryGetValue("signature", out var cavage))
        {
            return ReadCavage(method, target, headers, body, now, cavage);
        }
        return (null, "The request is not signed (no Signature header).");
    }

    private static (SignatureClaim?, string?) ReadCavage(string method, Uri target, IReadOnlyDictionary<string, string> headers,
        byte[] body, DateTimeOffset now, string header)
    {
        var p = CavageParams(header);
        if (!p.TryGetValue("keyId", out var keyId) || !p.TryGetValue("signature", out var sigText))
        {
            return (null, "The Signature header lacks keyId or signature.");
        }
        var alg = p.GetValueOrDefault("algorithm", "hs2019");
        if (alg is not ("rsa-sha256" or "hs2019"))
        {
            return (null, $"Signature algorithm {alg} is not supported (rsa-sha256 or hs2019 with an RSA key).");
        }
        var covered = p.GetValueOrDefault("headers", "date").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // Without these a captured signature could be replayed against another path or body.
        foreach (var required in new[] { "(request-target)", "host", "digest" })
        {
            if (!covered.Contains(required, StringComparer.OrdinalIgnoreCase))
            {
                return (null, $"The signature does not cover {required}.");
            }
        }
        if (!covered.Contains("date", StringComparer.OrdinalIgnoreCase) && !covered.Contains("(created)", StringComparer.OrdinalIgnoreCase))
        {
            return (null, "The signature covers neither date nor (created).");
        }
        if (DigestError(headers, body) is { } digestError)
        {
            return (null, digestError);
        }
        if (headers.TryGetValue("date", out var dateText))
        {
            if (!DateTimeOffset.TryParse(dateText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                return (null, "The Date header is not a date.");
            }
            if ((now - date).Duration() > Skew)
            {
                return (null, $"The request's Date ({dateText}) is more than an hour from this server's time.");
            }
        }
        var lines = new List<string>();
        foreach (var name in covered)
        {
            var lower = name.ToLowerInvariant();
            if (lower == "(request-target)")
            {
                lines.Add($"(request-target): {method.ToLowerInvariant()} {target.PathAndQuery}");
            }
            else if (lower == "(created)" && p.TryGetValue("created", out var created))
            {
                lines.Add($"(created): {created}");
            }
            else if (lower == "(expires)" && p.TryGetValue("expires", out var expires))
            {
                lines.Add($"(expires): {expires}");
            }
            else if (headers.TryGetValue(lower, out var value))
            {
                lines.Add($"{lower}: {value}");
            }
            else
            {
                return (null, $"The signature covers the header {name}, which the request does not have.");
            }
        }
        if (!TryBase64(sigText, out var signature))
        {
            return (null, "The signature is not base64.");
        }
        var signed = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        return (new SignatureClaim(keyId, rsa => rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)), null);
    }

    private static (SignatureClaim?, string?) ReadRfc9421(string method, Uri target, IReadOnlyDictionary<string, string> headers,
        byte[] body, DateTimeOffset now, string input, string signatureHeader)
    {
        // The first signature only: a sender adds one, and a proxy's extra ones are not ours to judge.
        var eq = input.IndexOf('=');
        if (eq <= 0)
        {
            return (null, "The Signature-Input header is malformed.");
        }
        var label = input[..eq].Trim();
        var paramsText = input[(eq + 1)..].Trim();
        var next = paramsText.IndexOf(", ", StringComparison.Ordinal);
        if (paramsText.StartsWith('(') && paramsText.IndexOf(')') is var close and > 0 && next > close)
        {
            paramsText = paramsText[..next];
        }
        if (!paramsText.StartsWith('(') || paramsText.IndexOf(')') is not (var end and > 0))
        {
            return (null, "The Signature-Input header is malformed.");
        }
        var components = paramsText[1..end].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => c.Trim('"')).ToList();
        var parameters = paramsText[(end + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(x => x.Split('=', 2)).Where(x => x.Length == 2).ToDictionary(x => x[0].Trim(), x => x[1].Trim().Trim('"'));
        if (!parameters.TryGetValue("keyid", out var keyId))
        {
            return (null, "The signature names no keyid.");
        }
        if (parameters.TryGetValue("alg", out var alg) && alg != "rsa-v1_5-sha256")
        {
            return (null, $"Signature algorithm {alg} is not supported (rsa-v1_5-sha256).");
        }
        if (!parameters.TryGetValue("created", out var createdText) || !long.TryParse(createdText, out var created))
        {
            return (null, "The signature has no created time.");
        }
        if ((now - DateTimeOffset.FromUnixTimeSeconds(created)).Duration() > Skew)
        {
            return (null, "The signature's created time is more than an hour from this server's time.");
        }
        foreach (var required in new[] { "@method", "content-digest" })
        {
            if (!components.Contains(required))
            {
                return (null, $"The signature does not cover {required}.");
            }
        }
        if (!components.Contains("@target-uri") && !(components.Contains("@authority") && components.Contains("@path")))
        {
            return (null, "The signature covers neither @target-uri nor @authority and @path.");
        }
        if (ContentDigestError(headers, body) is { } digestError)
        {
            return (null, digestError);
        }
        var lines = new List<string>();
        foreach (var c in components)
        {
            string? value = c switch
            {
                "@method" => method.ToUpperInvariant(),
                "@target-uri" => target.AbsoluteUri,
                "@authority" => target.Authority.ToLowerInvariant(),
                "@scheme" => target.Scheme,
                "@path" => target.AbsolutePath,
                "@query" => target.Query.Length > 0 ? target.Query : "?",
                "@request-target" => target.PathAndQuery,
                _ when c.StartsWith('@') => null,
                _ => headers.GetValueOrDefault(c),
            };
            if (value is null)
            {
                return (null, $"The signature covers {c}, which this request does not have.");
            }
            lines.Add($"\"{c}\": {value}");
        }
        lines.Add($"\"@signature-params\": {paramsText}");
        var prefix = label + "=:";
        var at = signatureHeader.IndexOf(prefix, StringComparison.Ordinal);
        var stop = at < 0 ? -1 : signatureHeader.IndexOf(':', at + prefix.Length);
        if (at < 0 || stop < 0 || !TryBase64(signatureHeader[(at + prefix.Length)..stop], out var signature))
        {
            return (null, $"The Signature header has no signature labelled {label}.");
        }
        var signed = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        return (new SignatureClaim(keyId, rsa => rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)), null);
    }

    /// <summary>The headers a signed POST of <paramref name="body"/> needs, signed the cavage way (as Mastodon signs).</summary>
    public static IReadOnlyList<(string Name, string Value)> SignPost(Uri target, byte[] body, string keyId, RSA key, DateTimeOffset now)
    {
        var date = now.UtcDateTime.ToString("r", CultureInfo.InvariantCulture);
        var digest = "SHA-256=" + Convert.ToBase64String(SHA256.HashData(body));
        var host = target.IsDefaultPort ? target.Host : target.Authority;
        var signing = $"(request-target): post {target.PathAndQuery}\nhost: {host}\ndate: {date}\ndigest: {digest}";
        var signature = Convert.ToBase64String(key.SignData(Encoding.UTF8.GetBytes(signing), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        return
        [
            ("Host", host),
            ("Date", date),
            ("Digest", digest),
            ("Signature", $"keyId=\"{keyId}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"{signature}\""),
        ];
    }

    private static string? DigestError(IReadOnlyDictionary<string, string> headers, byte[] body)
    {
        if (!headers.TryGetValue("digest", out var digest))
        {
            return "The request has no Digest header.";
        }
        var expected = Convert.ToBase64String(SHA256.HashData(body));
        foreach (var part in digest.Split(','))
        {
            var kv = part.Trim().Split('=', 2);
            if (kv.Length == 2 && kv[0].Equals("SHA-256", StringComparison.OrdinalIgnoreCase))
            {
                return kv[1] == expected ? null : "The Digest header does not match the body.";
            }
        }
        return "The Digest header has no SHA-256 value.";
    }

    private static string? ContentDigestError(IReadOnlyDictionary<string, string> headers, byte[] body)
    {
        if (!headers.TryGetValue("content-digest", out var digest))
        {
            return "The request has no Content-Digest header.";
        }
        foreach (var part in digest.Split(','))
        {
            var kv = part.Trim().Split('=', 2);
            if (kv.Length == 2 && kv[0] is "sha-256" or "sha-512")
            {
                var expected = kv[0] == "sha-256" ? SHA256.HashData(body) : SHA512.HashData(body);
                return kv[1].Trim(':') == Convert.ToBase64String(expected) ? null : "The Content-Digest header does not match the body.";
            }
        }
        return "The Content-Digest header has no sha-256 or sha-512 value.";
    }

    private static Dictionary<string, string> CavageParams(string header)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (i < header.Length)
        {
            var eq = header.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }
            var name = header[i..eq].Trim(' ', ',');
            string value;
            if (eq + 1 < header.Length && header[eq + 1] == '"')
            {
                var endQuote = header.IndexOf('"', eq + 2);
                if (endQuote < 0)
                {
                    break;
                }
                value = header[(eq + 2)..endQuote];
                i = endQuote + 1;
            }
            else
            {
                var comma = header.IndexOf(',', eq + 1);
                var stop = comma < 0 ? header.Length : comma;
                value = header[(eq + 1)..stop];
                i = stop;
            }
            result[name] = value;
            i = header.IndexOf(',', i) is var c and >= 0 ? c + 1 : header.Length;
        }
        return result;
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        return Convert.TryFromBase64String(text, bytes, out var n) && (bytes = bytes[..n]).Length > 0;
    }
}
