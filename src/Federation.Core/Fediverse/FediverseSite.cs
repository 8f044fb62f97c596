using System.Text.RegularExpressions;

namespace Federation.Core.Fediverse;

/// <summary>
/// Where the node's ActivityPub actor lives (issue 19): its addresses, all under
/// Node:Fediverse:BaseUrl, written once so documents and routes cannot disagree.
/// </summary>
public sealed partial class FediverseSite
{
    public FediverseSite(FediverseOptions options)
    {
        Enabled = options.Enabled;
        Options = options;
        if (!Enabled)
        {
            BaseUrl = "";
            Account = "";
            Host = "";
            return;
        }
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "https" && uri.Scheme != "http")
            || uri.PathAndQuery != "/" || uri.Fragment.Length > 0)
        {
            throw new NodeStartRefusedException(
                $"Node:Fediverse:BaseUrl must be the actor's public address, such as https://solnet.example.org (no path), not '{options.BaseUrl}'.");
        }
        if (!AccountName().IsMatch(options.Account))
        {
            throw new NodeStartRefusedException(
                $"Node:Fediverse:Account must be the account's name (letters, digits, '-', '_', '.'), such as leeds-solnet, not '{options.Account}'.");
        }
        if (options.ActorType is not ("Group" or "Service"))
        {
            throw new NodeStartRefusedException($"Node:Fediverse:ActorType must be Group or Service, not '{options.ActorType}'.");
        }
        BaseUrl = uri.GetLeftPart(UriPartial.Authority);
        Account = options.Account;
        Host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
    }

    public bool Enabled { get; }
    public FediverseOptions Options { get; }
    public string BaseUrl { get; }
    public string Account { get; }

    /// <summary>The account's domain: the base address's host (and port, when not the default).</summary>
    public string Host { get; }

    public string Handle => $"acct:{Account}@{Host}";
    public string ActorId => $"{BaseUrl}/fediverse/actor";
    public string KeyId => $"{ActorId}#main-key";
    public string Inbox => $"{BaseUrl}/fediverse/inbox";
    public string Outbox => $"{BaseUrl}/fediverse/outbox";
    public string Followers => $"{BaseUrl}/fediverse/followers";
    public string NoteId(string callOutId) => $"{BaseUrl}/fediverse/call-outs/{NoteKey(callOutId)}";

    /// <summary>
    /// The part of a call-out's id after its origin's node id: the note's address does not
    /// name the node's identity, so following the account tells nobody which federation node it is.
    /// </summary>
    public static string NoteKey(string callOutId) => Uri.EscapeDataString(callOutId[(callOutId.LastIndexOf('.') + 1)..]);

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex AccountName();
}
