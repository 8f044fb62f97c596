using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace Federation.Node.Notifications;

/// <summary>
/// What this node's people are told, as a feed of <see cref="InboxItem"/>s: every new or
/// changed call-out, the fight events that ask something of this network
/// (<see cref="FightNotices"/>) and the referrals and incidents filed with it as initiator,
/// read from the events and reports this node has stored (its own and its replicas') in
/// the order it stored them. The subscription, webhooks and e-mail all read
/// from here, so they tell the same story; each item's cursor lets a reader resume where it stopped.
/// </summary>
public sealed class InboxFeed(IFederationStore store, NodeIdentity identity, IOptions<NodeOptions> node, IOptions<CallOutOptions> options, FeedSignal signal,
    Federation.Core.Sealing.StorageVault vault)
{
    /// <summary>The items among the next <paramref name="limit"/> stored events, and how far they were read (a reader resumes after <see cref="FeedPage.End"/>).</summary>
    public FeedPage Read(long afterCursor, int limit)
    {
        var entries = store.ReadFeed(afterCursor, limit);
        if (entries.Count == 0)
        {
            return new([], afterCursor);
        }
        var names = NetworkNames();
        var links = new Links(DashboardUrl());
        var states = new Dictionary<string, object?>();
        var items = new List<InboxItem>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.Report is not null)
            {
                // A referral or incident filed with this node (not an event: ADR 13).
                // Sealed at rest (adr/0021): a locked node still tells that a report came and who filed
                // it; its kind waits for the unlock, and its text is never told.
                var report = vault.TryOpen(entry.Report, out var clear)
                    ? FightReport.Parser.ParseFrom(clear)
                    : new FightReport { FightId = entry.ObjectId, Network = entry.ReportNetwork ?? "" };
                if (FightNotices.ForReport(report, State(states, entry.ObjectId, FightState.Parser), identity.NodeId, names) is { } told)
                {
                    items.Add(InboxItems.Build(entry.Position, report, told, links.To("fights", told.FightId)));
                }
                continue;
            }
            if (entry.Reminder is not null)
            {
                // A reminder (issue 17 #3) is stored as the item it tells; the cursor and link are the feed's.
                var reminder = InboxItem.Parser.ParseFrom(entry.Reminder);
                reminder.Cursor = (ulong)entry.Position;
                reminder.Link = links.To(reminder.FightId.Length > 0 ? "fights" : "callouts", entry.ObjectId);
                items.Add(reminder);
                continue;
            }
            if (!vault.TryOpen(entry.Payload, out var payload))
            {
                // A participants-only event, sealed (adr/0025): while locked the feed tells that the
                // fight has participants-only news, never what it is, rather than skip it for good.
                if (State(states, entry.ObjectId, BriefingsState.Parser)?.FightId is { } sealedFight
                    && State(states, sealedFight, FightState.Parser) is { } of)
                {
                    items.Add(InboxItems.Build(new FightNotice(InboxChange.Updated, sealedFight, of.Title,
                        $"Participants-only news in {of.Title}: the node is locked, an operator must unlock it to read it.",
                        $"solnet unlock; then solnet fight briefings {sealedFight}"), links.To("fights", sealedFight), entry.Position));
                }
                continue;
            }
            var e = EventPayload.Parser.ParseFrom(payload);
            if (e.ObjectKind == ObjectKind.CallOut)
            {
                var callOut = State(states, entry.ObjectId, CallOutState.Parser);
                var item = InboxItems.Build(entry.Position, e, callOut, identity.NodeId, names);
                item.Link = links.To("callouts", e.ObjectId);
                items.Add(item);
                continue;
            }
            // A briefings event is told of with the fight it belongs to.
            var fightId = e.ObjectKind == ObjectKind.Briefings
                ? State(states, entry.ObjectId, BriefingsState.Parser)?.FightId
                : e.ObjectId;
            var fight = fightId is null ? null : State(states, fightId, FightState.Parser);
            if (FightNotices.For(e, fight, identity.NodeId, names) is { } notice)
            {
                items.Add(InboxItems.Build(entry.Position, e, notice, links.To("fights", notice.FightId)));
            }
        }
        return new(items, entries[^1].Position);
    }

    public long End() => store.FeedEnd();

    /// <summary>
    /// What waits for this network's answer (issue 17 #2), as items like the feed's: the fights
    /// that ask something of it (<see cref="FightNotices.Waiting"/>), then the call-outs sent
    /// to it that it has not answered (<see cref="News.AwaitsAnswer"/>). Cursor 0: they are
    /// states, not events.
    /// </summary>
    public IReadOnlyList<InboxItem> Waiting(IEnumerable<FightState> fights, IEnumerable<CallOutState> callOuts, DateTimeOffset now)
    {
        var names = NetworkNames();
        var links = new Links(DashboardUrl());
        var items = new List<InboxItem>();
        foreach (var fight in fights)
        {
            if (FightNotices.Waiting(fight, identity.NodeId, names) is { } notice)
            {
                items.Add(InboxItems.Build(notice, links.To("fights", notice.FightId)));
            }
        }
        foreach (var callOut in callOuts.Where(c => News.AwaitsAnswer(c, identity.NodeId, now)))
        {
            var title = callOut.Content?.Title ?? callOut.Id;
            items.Add(new InboxItem
            {
                Change = InboxChange.Published, CallOutId = callOut.Id, Title = title, At = callOut.PublishedAt,
                Summary = $"{names(callOut.OriginNode)} asks: {title}. Pledge an action or decline.",
                Act = $"solnet callout show {callOut.Id}; then solnet callout respond {callOut.Id} pledge --date DATE or solnet callout respond {callOut.Id} decline",
                Link = links.To("callouts", callOut.Id),
            });
        }
        return items;
    }

    /// <summary>Writes items after <paramref name="cursor"/> as they come, until the caller goes away.</summary>
    public async Task FollowAsync(long cursor, Func<InboxItem, Task> write, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var page = Read(cursor, 100);
            foreach (var item in page.Items)
            {
                await write(item);
            }
            // Past what was read, told or not: events that ask nothing of this network are not read again.
            var moved = page.End > cursor;
            cursor = page.End;
            if (!moved)
            {
                await signal.WaitAsync(options.Value.Notifications.PollInterval, ct);
            }
        }
    }

    /// <summary>An object's state as this node holds it now, read once per page.</summary>
    private T? State<T>(Dictionary<string, object?> states, string id, MessageParser<T> parser) where T : class, IMessage<T>
    {
        if (!states.TryGetValue(id, out var state))
        {
            var stored = store.GetObject(id);
            states[id] = state = stored is null ? null : parser.ParseFrom(stored.State);
        }
        return (T?)state;
    }

    /// <summary>Where people open the dashboard: Node:Notifications:DashboardUrl, or the node's own dashboard address.</summary>
    private string DashboardUrl()
    {
        var configured = options.Value.Notifications.DashboardUrl.TrimEnd('/');
        if (configured.Length > 0)
        {
            return configured;
        }
        var o = node.Value;
        return o.ResolvedDashboardPort > 0 ? $"{(o.Tls ? "https" : "http")}://{o.DashboardHost}:{o.ResolvedDashboardPort}" : "";
    }

    private sealed record Links(string Base)
    {
        public string To(string page, string id) => Base.Length > 0 ? $"{Base}/{page}/{Uri.EscapeDataString(id)}" : "";
    }

    private Func<string, string> NetworkNames()
    {
        var names = store.ListPeers().ToDictionary(p => p.NodeId, p => p.Name);
        names[identity.NodeId] = node.Value.Name;
        return id => names.TryGetValue(id, out var n) ? $"{n} ({Identifiers.ShortFingerprint(id)})" : Identifiers.Fingerprint(id);
    }
}

/// <summary>A page of the feed: the items to tell, and the position of the last event read (told or not).</summary>
public sealed record FeedPage(IReadOnlyList<InboxItem> Items, long End);
