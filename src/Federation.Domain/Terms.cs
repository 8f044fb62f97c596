using System.Security.Cryptography;
using Federation.Contracts.V1;
using Google.Protobuf;

namespace Federation.Domain;

/// <summary>
/// A fight's terms: complete before they can be offered, frozen as bytes, named by
/// the hash of those bytes. Protobuf serialisation is not canonical, so the hash is
/// always of the bytes as carried, never of a re-serialisation.
/// </summary>
public static class Terms
{
    public const int MaxDemands = 50;

    /// <summary>What is still missing before these terms can be offered; empty when complete.</summary>
    public static IReadOnlyList<string> Missing(FightTerms? terms)
    {
        var missing = new List<string>();
        if (terms is null || terms.Demands.Count == 0 || terms.Demands.Any(string.IsNullOrWhiteSpace))
        {
            missing.Add("demands");
        }
        if (string.IsNullOrWhiteSpace(terms?.Strategy))
        {
            missing.Add("strategy");
        }
        if (string.IsNullOrWhiteSpace(terms?.Facts))
        {
            missing.Add("facts of the conflict");
        }
        if (string.IsNullOrWhiteSpace(terms?.EndConditions))
        {
            missing.Add("end conditions");
        }
        return missing;
    }

    public static void CheckText(FightTerms terms)
    {
        if (terms.Demands.Count > MaxDemands)
        {
            throw RuleViolation.Invalid($"A fight can have at most {MaxDemands} demands; this one has {terms.Demands.Count}.");
        }
        for (var i = 0; i < terms.Demands.Count; i++)
        {
            Text.Check($"demand {i + 1}", terms.Demands[i], Text.LongMax);
        }
        Text.Check("strategy", terms.Strategy, Text.LongMax);
        Text.Check("facts", terms.Facts, Text.LongMax);
        Text.Check("end conditions", terms.EndConditions, Text.LongMax);
        Text.Check("materials", terms.Materials, Text.LongMax);
    }

    public static void RequireComplete(FightTerms? terms)
    {
        var missing = Missing(terms);
        if (missing.Count > 0)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.TermsFirst,
                $"Terms first: the fight cannot be offered until its terms are complete. Missing: {string.Join(", ", missing)}.");
        }
    }

    public static (ByteString Bytes, string Hash) Freeze(FightTerms terms)
    {
        var bytes = terms.ToByteString();
        return (bytes, Hash(bytes.Span));
    }

    public static string Hash(ReadOnlySpan<byte> termsBytes) => Convert.ToHexStringLower(SHA256.HashData(termsBytes));

    /// <summary>
    /// What changed between two versions, one line per change, for a delegate deciding
    /// whether to reaffirm: "+ demand: …", "- demand: …", "~ strategy: …".
    /// </summary>
    public static IReadOnlyList<string> Diff(FightTerms before, FightTerms after)
    {
        var lines = new List<string>();
        lines.AddRange(Without(before.Demands, after.Demands).Select(d => $"- demand: {d}"));
        lines.AddRange(Without(after.Demands, before.Demands).Select(d => $"+ demand: {d}"));
        void Changed(string name, string a, string b)
        {
            if (a != b)
            {
                lines.Add(b.Length == 0 ? $"- {name} (removed)" : $"~ {name}: {b}");
            }
        }
        Changed("strategy", before.Strategy, after.Strategy);
        Changed("facts", before.Facts, after.Facts);
        Changed("end conditions", before.EndConditions, after.EndConditions);
        Changed("materials", before.Materials, after.Materials);
        if (lines.Count == 0 && !before.Demands.SequenceEqual(after.Demands))
        {
            lines.Add("~ demands reordered");
        }
        return lines;
    }

    /// <summary>The items of <paramref name="a"/> not matched one-for-one in <paramref name="b"/> (a multiset difference, so a repeated demand counts).</summary>
    private static IEnumerable<string> Without(IEnumerable<string> a, IEnumerable<string> b)
    {
        var left = b.GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
        foreach (var x in a)
        {
            if (left.TryGetValue(x, out var n) && n > 0)
            {
                left[x] = n - 1;
            }
            else
            {
                yield return x;
            }
        }
    }

    /// <summary>A short form of a hash for people: the first 12 hex digits.</summary>
    public static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
