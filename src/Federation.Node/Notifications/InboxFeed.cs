using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Domain;
using Microsoft.Extensions.Options;

namespace Federation.Node.Notifications;

/// <summary>
/// New and changed call-outs as a feed of <see cref="InboxItem"/>s, read from the
/// call-out events this node has stored (its own and its replicas'), in the order it
/// stored them. The subscription, webhooks and e-mail all read from here, so they tell
/// the same story; each item's cursor lets a reader resume where it stopped.
/// </summary>
public sealed class InboxFeed(IFederationStore store, NodeIdentity identity, IOptions<NodeOptions> node, IOptions<CallOutOptions> options, FeedSignal signal)
{
    public IReadOnlyList<InboxItem> Read(long afterCursor, int limit)
    {
        var entries = store.ReadFeed(afterCursor, limit);
        if (entries.Count == 0)
        {
            return [];
        }
        var names = NetworkNames();
        var states = new Dictionary<string, CallOutState?>();
        var items = new List<InboxItem>(entries.Count);
        foreach (var entry in entries)
        {
            if (!states.TryGetValue(entry.ObjectId, out var state))
            {
                var stored = store.GetObject(entry.ObjectId);
                states[entry.ObjectId] = state = stored is null ? null : CallOutState.Parser.ParseFrom(stored.State);
            }
            items.Add(InboxItems.Build(entry.Position, EventPayload.Parser.ParseFrom(entry.Payload), state, identity.NodeId, names));
        }
        return items;
    }

    public long End() => store.FeedEnd();

    /// <summary>Writes items after <paramref name="cursor"/> as they come, until the caller goes away.</summary>
    public async Task FollowAsync(long cursor, Func<InboxItem, Task> write, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var items = Read(cursor, 100);
            foreach (var item in items)
            {
                await write(item);
                cursor = (long)item.Cursor;
            }
            if (items.Count == 0)
            {
                await signal.WaitAsync(options.Value.Notifications.PollInterval, ct);
            }
        }
    }

    private Func<string, string> NetworkNames()
    {
        var names = store.ListPeers().ToDictionary(p => p.NodeId, p => p.Name);
        names[identity.NodeId] = node.Value.Name;
        return id => names.TryGetValue(id, out var n) ? $"{n} ({Identifiers.ShortFingerprint(id)})" : Identifiers.Fingerprint(id);
    }
}
