using System.Security.Cryptography;
using System.Text;
using Federation.Contracts.V1;
using Google.Protobuf;

namespace Federation.Domain;

/// <summary>
/// A call-out's audience named by a digest (issue 20 #3, docs/adr/0030). The signed payload
/// of a call-out once named every recipient, so each of N copies carried N node ids: a
/// fan-out's bytes, parsing and hashing grew with the square of its audience. Published to
/// a digest, what is signed names the audience by its SHA-256 and its size, and only the
/// issuer keeps the list: the issuer still sends to the recipients alone and still refuses
/// a response from anyone else, and a recipient learns how many networks were asked, not
/// which. What a recipient can no longer check is that a response the issuer logged came
/// from a recipient: the issuer's signature vouches for it, as it vouches for the rest of
/// the log, and the response's own signature still proves who sent it.
/// </summary>
public static partial class CallOuts
{
    /// <summary>SHA-256 over the node ids, sorted by ordinal, each followed by a newline.</summary>
    public static ByteString RecipientsDigest(IEnumerable<string> recipients)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var id in recipients.Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(id));
            sha.AppendData("\n"u8);
        }
        return ByteString.CopyFrom(sha.GetHashAndReset());
    }

    /// <summary>How many networks a call-out was sent to, whether this node holds the list or only its digest.</summary>
    public static int RecipientCount(CallOutState callOut) =>
        callOut.RecipientCount > 0 ? (int)callOut.RecipientCount : callOut.Recipients.Count;

    /// <summary>
    /// The issuer, recovering its call-out from its peers' copies with no backup (issue 16 #4),
    /// holds only the digest of an audience named by one: a peer that holds a copy was sent it,
    /// so it is a recipient again. Returns whether any was added. Call-out ids cannot be
    /// guessed, so a peer that lists one holds it; a recipient not found holding a copy is
    /// not sent to, and its response is refused, until it is.
    /// </summary>
    public static bool LearnRecipients(CallOutState callOut, IEnumerable<string> holders)
    {
        if (callOut.RecipientsDigest.IsEmpty)
        {
            return false;
        }
        var added = false;
        foreach (var holder in holders.Where(h => Identifiers.IsNodeId(h) && h != callOut.OriginNode).Order(StringComparer.Ordinal))
        {
            if (callOut.Recipients.Count < callOut.RecipientCount && !callOut.Recipients.Contains(holder))
            {
                callOut.Recipients.Add(holder);
                added = true;
            }
        }
        return added;
    }

    /// <summary>
    /// Whether <paramref name="network"/> is among the recipients, as far as this node can
    /// tell: a recipient holding only the digest takes the issuer's word (see the class).
    /// </summary>
    public static bool IsRecipient(CallOutState callOut, string network) =>
        callOut.Recipients.Count == 0 ? !callOut.RecipientsDigest.IsEmpty : callOut.Recipients.Contains(network);

    /// <summary>
    /// The payload as it is signed and sent: a call-out published to a digest keeps its
    /// recipients, and the chosen networks that repeat them, at its issuer only.
    /// </summary>
    internal static EventPayload AsSigned(EventPayload payload)
    {
        var published = payload.Body.CallOutPublished;
        if (published.RecipientsDigest.IsEmpty || published.Recipients.Count == 0)
        {
            return payload;
        }
        var signed = payload.Clone();
        signed.Body.CallOutPublished.Recipients.Clear();
        signed.Body.CallOutPublished.Audience?.Networks.Clear();
        return signed;
    }

    internal static CallOutState AsOthersHoldIt(CallOutState callOut)
    {
        if (callOut.RecipientsDigest.IsEmpty || callOut.Recipients.Count == 0)
        {
            return callOut;
        }
        var held = callOut.Clone();
        held.Recipients.Clear();
        held.Audience?.Networks.Clear();
        return held;
    }

    private static void CheckDigest(CallOutPublished published)
    {
        if (published.RecipientsDigest.Length != 32 || published.RecipientCount == 0)
        {
            throw RuleViolation.Invalid("A call-out's audience digest is a SHA-256 of at least one recipient, with their number.");
        }
        if (published.Recipients.Count > 0
            && (published.Recipients.Count != published.RecipientCount || !RecipientsDigest(published.Recipients).Equals(published.RecipientsDigest)))
        {
            throw RuleViolation.Invalid("The call-out's recipients are not the ones its audience digest names.");
        }
        if (published.Recipients.Count == 0 && published.Audience is { Networks.Count: > 0 })
        {
            throw RuleViolation.Invalid("A call-out published to a digest of its audience names no chosen network.");
        }
    }
}
