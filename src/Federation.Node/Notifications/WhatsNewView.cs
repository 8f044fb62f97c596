using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Notifications;

/// <summary>
/// "What's new" for one token (issue 17 #2, adr/0018): the feed items after the position the
/// token last looked up to that are others' answers to what this node started
/// (<see cref="News.Counts"/>), and what waits for this network's own answer. The gRPC
/// service, <c>solnet inbox</c> and the dashboard all read it here.
/// </summary>
public sealed class WhatsNewView(IFederationStore store, InboxFeed feed, NodeIdentity identity, FightCommands fights, CallOutCommands callOuts, TimeProvider time)
{
    /// <summary>The most news items returned, the latest kept.</summary>
    public const int MaxItems = 200;

    /// <summary>
    /// How many feed entries one look reads at most, the latest: a token that never looked,
    /// or last looked long ago, costs a bounded read rather than the node's whole history.
    /// </summary>
    public const int MaxScan = 5_000;

    public WhatsNew For(string tokenId)
    {
        var (news, upTo, seen) = Read(tokenId);
        return new WhatsNew
        {
            News = { news },
            UpTo = (ulong)upTo,
            LastLooked = seen is null ? null : Timestamp.FromDateTimeOffset(seen.At),
            Waiting = { feed.Waiting(fights.List(), callOuts.List(), time.GetUtcNow()) },
        };
    }

    /// <summary>How many news items wait for this token (the dashboard's menu, on every page: the news alone, not what waits).</summary>
    public int Count(string tokenId) => Read(tokenId).News.Count;

    /// <summary>The news after the token's last look (the latest <see cref="MaxItems"/>), and the position read to.</summary>
    private (IReadOnlyList<InboxItem> News, long UpTo, NewsSeenRecord? Seen) Read(string tokenId)
    {
        var seen = store.NewsSeen(tokenId);
        var end = feed.End();
        var cursor = Math.Max(seen?.Position ?? 0, end - MaxScan);
        var news = new List<InboxItem>();
        while (cursor < end)
        {
            var page = feed.Read(cursor, 500);
            news.AddRange(page.Items.Where(i => News.Counts(i, identity.NodeId)));
            if (page.End <= cursor)
            {
                break;
            }
            cursor = page.End;
        }
        // Where this look read to, not the feed's end when it is marked: what arrives between
        // the two stays new.
        return (news.Skip(Math.Max(0, news.Count - MaxItems)).ToList(), Math.Max(cursor, seen?.Position ?? 0), seen);
    }

    /// <summary>
    /// Records that the token looked up to <paramref name="upTo"/>, a position <see cref="For"/>
    /// gave. A position this node's feed has not reached is refused and nothing is written.
    /// </summary>
    public async Task<long> MarkSeenAsync(string tokenId, ulong upTo, CancellationToken ct)
    {
        if (upTo == 0)
        {
            throw RuleViolation.Invalid("up_to is required: pass the up_to of the GetWhatsNew answer you read.");
        }
        var end = feed.End();
        if (upTo > (ulong)end)
        {
            throw RuleViolation.Invalid($"up_to {upTo} is past this node's feed (it ends at {end}): pass the up_to of the GetWhatsNew answer you read.");
        }
        await store.WriteAsync(tx =>
        {
            tx.SetNewsSeen(tokenId, (long)upTo, time.GetUtcNow());
            return true;
        }, ct);
        return store.NewsSeen(tokenId)?.Position ?? (long)upTo;
    }
}
