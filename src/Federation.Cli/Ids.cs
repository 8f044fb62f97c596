using System.CommandLine;
using System.Runtime.CompilerServices;
using Federation.Contracts.V1;

namespace Federation.Cli;

/// <summary>What an id names, so that solnet knows where to look a prefix up.</summary>
public enum IdKind
{
    Fight,
    CallOut,
    Peer,
    Token,
    Channel,
    Action,
}

/// <summary>
/// Ids as people type them (issue 17, item 6): a whole id, or any unique prefix of one, at
/// least <see cref="MinPrefix"/> characters long. A fight or call-out id is "origin.local",
/// and every object of one origin shares the origin's 32 digits, so a prefix of the local
/// part counts too: that is what tables show. A peer is also found by its name. Every id
/// argument resolves here, through <see cref="Session.Get(Argument{string})"/>, so no
/// command has its own way of doing it.
/// </summary>
public static class Ids
{
    /// <summary>As git does: shorter prefixes are too likely to match by chance, and "f1" in a script stays "f1".</summary>
    public const int MinPrefix = 4;

    /// <summary>How many characters of an object's local part a table shows: 48 bits, unique among any node's objects in practice.</summary>
    public const int ShownLength = 12;

    private sealed record Spec(IdKind Kind, Argument<string>? Fight);

    private static readonly ConditionalWeakTable<Argument, Spec> Specs = new();

    /// <summary>An id argument whose value is resolved before use; an action id is looked up in the fight named by <paramref name="fight"/>.</summary>
    public static Argument<string> Arg(IdKind kind, string name, string description, Argument<string>? fight = null)
    {
        var argument = Cli.Arg(name, description + " (any unique prefix will do)");
        Specs.Add(argument, new Spec(kind, fight));
        return argument;
    }

    internal static bool IsId(Argument argument, out IdKind kind, out Argument<string>? fight)
    {
        var found = Specs.TryGetValue(argument, out var spec);
        (kind, fight) = found ? (spec!.Kind, spec.Fight) : (default, null);
        return found;
    }

    /// <summary>How a table shows an object id: the start of its local part, enough to type back.</summary>
    public static string Shown(string id) => Local(id) is { Length: > ShownLength } local ? local[..ShownLength] : id;

    private static string Local(string id) => id.IndexOf('.') is var dot and >= 0 ? id[(dot + 1)..] : id;

    /// <summary>What a person typed, in the form ids are stored (a fingerprint's dashes and case do not matter).</summary>
    public static string Normal(IdKind kind, string typed) =>
        kind == IdKind.Peer ? PeeringCode.Id(typed) : typed.Trim().ToLowerInvariant();

    private static int WholeLength(IdKind kind) => kind switch
    {
        IdKind.Fight or IdKind.CallOut => 65,
        IdKind.Peer => 32,
        IdKind.Token => 12,
        IdKind.Channel => 13,
        IdKind.Action => 36,
        _ => int.MaxValue,
    };

    private static bool Allowed(IdKind kind, char c) => kind switch
    {
        IdKind.Fight or IdKind.CallOut => char.IsAsciiHexDigitLower(c) || c == '.',
        IdKind.Token => char.IsAsciiHexDigitLower(c),
        IdKind.Action => char.IsAsciiHexDigitLower(c) || c == '-',
        _ => char.IsAsciiLetterOrDigit(c) || c == '-',
    };

    /// <summary>
    /// Whether to look <paramref name="typed"/> up: not a whole id (the node checks those
    /// itself and says what is wrong), and shaped like a prefix. A peer's name is always
    /// looked up. Anything else goes to the node as typed, whose refusal names the mistake.
    /// </summary>
    public static bool NeedsLookup(IdKind kind, string typed)
    {
        var t = Normal(kind, typed);
        if (kind == IdKind.Peer)
        {
            return t.Length is > 0 and < 32 || !t.All(char.IsAsciiHexDigitLower);
        }
        return t.Length >= MinPrefix && t.Length < WholeLength(kind) && t.All(c => Allowed(kind, c));
    }

    /// <summary>
    /// The one candidate that <paramref name="typed"/> names: a whole id, a peer's name, or the
    /// start of an id or of its local part. None is a refusal saying so; more than one is a
    /// usage error listing them, since the person must type more.
    /// </summary>
    public static string Match(IdKind kind, string typed, IReadOnlyList<(string Id, string Label)> candidates)
    {
        var t = Normal(kind, typed);
        var exact = candidates.Where(c => c.Id == t || (kind == IdKind.Peer && string.Equals(c.Label, typed.Trim(), StringComparison.OrdinalIgnoreCase))).ToList();
        var matches = exact.Count > 0 ? exact
            : t.Length < MinPrefix ? []
            : candidates.Where(c => c.Id.StartsWith(t, StringComparison.Ordinal) || Local(c.Id).StartsWith(t, StringComparison.Ordinal)).ToList();
        return matches.DistinctBy(c => c.Id).ToList() switch
        {
            [var one] => one.Id,
            [] => throw new RefusedException($"No {Noun(kind)} on this node {(kind == IdKind.Peer ? "is called or has a fingerprint starting" : "has an id starting")} '{typed}'. {ListedBy(kind)}"),
            var many => throw new UsageException(
                $"'{typed}' is the start of {many.Count} {Noun(kind)}s' ids; type more of the one you mean:\n"
                + string.Join("\n", many.Select(c => $"  {Shown(c.Id)}  {c.Label}"))),
        };
    }

    private static string Noun(IdKind kind) => kind switch
    {
        IdKind.CallOut => "call-out",
        IdKind.Channel => "notification channel",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static string ListedBy(IdKind kind) => kind switch
    {
        IdKind.Fight => "`solnet fights` lists them.",
        IdKind.CallOut => "`solnet callouts` lists them.",
        IdKind.Peer => "`solnet peers` lists them.",
        IdKind.Token => "`solnet token list` lists them.",
        IdKind.Channel => "`solnet notify list` lists them.",
        _ => "`solnet fight show FIGHT` lists its actions.",
    };

    /// <summary>The ids a prefix may name, each with what people call it; one call to the node.</summary>
    internal static IReadOnlyList<(string Id, string Label)> Candidates(Session s, IdKind kind, Func<string> fight) => kind switch
    {
        IdKind.Fight => s.Client.ListFights(new ListFightsRequest(), s.Call).Fights.Select(f => (f.Id, f.Title)).ToList(),
        IdKind.CallOut => s.Client.ListCallOuts(new ListCallOutsRequest(), s.Call).CallOuts.Select(c => (c.Id, c.Content.Title)).ToList(),
        IdKind.Peer => s.Client.ListPeers(new ListPeersRequest(), s.Call).Peers.Select(p => (p.NodeId, p.Name)).ToList(),
        IdKind.Token => s.Client.ListTokens(new ListTokensRequest(), s.Call).Tokens.Select(t => (t.Id, t.Holder)).ToList(),
        IdKind.Channel => s.Client.ListNotificationChannels(new ListNotificationChannelsRequest(), s.Call).Channels.Select(c => (c.Id, c.Target)).ToList(),
        _ => s.Client.GetFight(new GetObjectRequest { Id = fight() }, s.Call).Actions.Select(a => (a.ActionId, a.Plan.What)).ToList(),
    };
}
