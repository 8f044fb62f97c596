using Federation.Contracts.V1;
using Federation.Domain;

namespace Federation.Node.Notifications;

/// <summary>Turns one stored event into the item a delegate is told about.</summary>
public static class InboxItems
{
    /// <summary>A fight notice (<see cref="FightNotices"/>) as an item: the one shape for an event's, a report's and what waits.</summary>
    public static InboxItem Build(FightNotice notice, string link, long cursor = 0) => new()
    {
        Cursor = (ulong)cursor,
        Change = notice.Change,
        FightId = notice.FightId,
        Summary = notice.Summary,
        Title = notice.Title,
        Link = link,
        Act = notice.Act,
        Detail = notice.ParticipantsOnly,
    };

    /// <summary>A fight event's notice as an item.</summary>
    public static InboxItem Build(long cursor, EventPayload e, FightNotice notice, string link)
    {
        var item = Build(notice, link, cursor);
        item.Sequence = e.Sequence;
        item.At = e.OccurredAt;
        return item;
    }

    /// <summary>A filed referral or incident's notice (<see cref="FightNotices.ForReport"/>) as an item.</summary>
    public static InboxItem Build(long cursor, FightReport report, FightNotice notice, string link)
    {
        var item = Build(notice, link, cursor);
        item.At = report.At;
        item.Network = report.Network;
        return item;
    }

    /// <summary>A reminder (issue 17 #3) as an item: what it tells is decided in the domain (<see cref="Reminders"/>).</summary>
    public static InboxItem Build(Reminder reminder, DateTimeOffset at) => new()
    {
        Change = InboxChange.Reminder,
        FightId = reminder.IsFight ? reminder.ObjectId : "",
        CallOutId = reminder.IsFight ? "" : reminder.ObjectId,
        At = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at),
        Title = reminder.Title,
        Summary = reminder.Summary,
        Act = reminder.Act,
    };

    public static InboxItem Build(long cursor, EventPayload e, CallOutState? state, string self, Func<string, string> networkName)
    {
        var item = new InboxItem
        {
            Cursor = (ulong)cursor,
            CallOutId = e.ObjectId,
            Sequence = e.Sequence,
            At = e.OccurredAt,
            CallOut = state,
            OwnAction = e.ActorNode == self,
        };
        var title = state?.Content?.Title ?? e.ObjectId;
        item.Title = state?.Content?.Title ?? "";
        item.Act = $"solnet callout show {e.ObjectId}";
        switch (e.Body?.KindCase)
        {
            case EventBody.KindOneofCase.CallOutPublished:
                item.Change = InboxChange.Published;
                var target = e.Body.CallOutPublished.Content?.Target?.Name;
                item.Summary = $"New call-out from {networkName(e.OriginNode)}: {e.Body.CallOutPublished.Content?.Title} (target: {target})";
                break;
            case EventBody.KindOneofCase.CallOutUpdated:
                item.Change = InboxChange.Updated;
                item.ChangedFields.AddRange(e.Body.CallOutUpdated.ChangedFields);
                item.Summary = $"Call-out updated by {networkName(e.OriginNode)}: {title}. Changed: {string.Join(", ", item.ChangedFields)}";
                break;
            case EventBody.KindOneofCase.CallOutResponded:
                item.Change = InboxChange.Responded;
                item.Network = e.Body.CallOutResponded.Network;
                item.Response = e.Body.CallOutResponded.Response;
                item.Summary = $"{networkName(item.Network)} {Verb(item.Response)}: {title}";
                break;
            case EventBody.KindOneofCase.CallOutClosed:
                var closed = e.Body.CallOutClosed;
                item.Change = closed.Expired ? InboxChange.Expired : closed.Cancelled ? InboxChange.Cancelled : InboxChange.Closed;
                var how = closed.Expired ? "expired" : closed.Cancelled ? "was cancelled" : "was closed";
                item.Summary = $"Call-out {how}: {title}{(closed.Reason.Length > 0 && !closed.Expired ? $" ({closed.Reason})" : "")}";
                break;
            default:
                item.Summary = $"Call-out changed: {title}";
                break;
        }
        return item;
    }

    /// <summary>
    /// What a webhook or an e-mail carries, and so what the node stores until it is sent: what
    /// happened, the title, the id to open it by, the link and the command that answers it —
    /// not the call-out's whole state, a response's text (issue 15 #9) nor a briefing's
    /// participants-only text (issue 17 #1): a mail provider or a chat service is not in the
    /// committed networks. The subscription, read by the node's own delegates, keeps the whole item.
    /// </summary>
    public static InboxItem ForChannel(InboxItem item) => new()
    {
        Cursor = item.Cursor,
        Change = item.Change,
        CallOutId = item.CallOutId,
        Sequence = item.Sequence,
        At = item.At,
        ChangedFields = { item.ChangedFields },
        Network = item.Network,
        Response = item.Response is { } r ? new CallOutResponse { Kind = r.Kind, Withheld = r.Withheld } : null,
        Summary = item.Summary,
        CallOut = item.CallOutId.Length == 0 ? null : new CallOutState
        {
            Id = item.CallOutId,
            OriginNode = item.CallOut?.OriginNode ?? "",
            Content = new CallOutContent { Title = item.CallOut?.Content?.Title ?? "" },
        },
        OwnAction = item.OwnAction,
        FightId = item.FightId,
        Title = item.Title,
        Link = item.Link,
        Act = item.Act,
    };

    public static bool IsFightChange(InboxChange change) =>
        change is InboxChange.Invited or InboxChange.Amended or InboxChange.StandDown
            or InboxChange.ReleaseRequested or InboxChange.Released or InboxChange.BriefingPosted
            or InboxChange.ReportFiled or InboxChange.Accepted or InboxChange.Declined
            or InboxChange.StandDownAcknowledged or InboxChange.ActionReported;

    /// <summary>The object an item is about: its call-out or its fight.</summary>
    public static string ObjectId(InboxItem item) => item.FightId.Length > 0 ? item.FightId : item.CallOutId;

    /// <summary>The event name webhooks carry, e.g. "callout.published" or "fight.stand_down".</summary>
    public static string EventName(InboxChange change) => change switch
    {
        InboxChange.Invited => "fight.invited",
        InboxChange.Amended => "fight.amended",
        InboxChange.StandDown => "fight.stand_down",
        InboxChange.ReleaseRequested => "fight.release_requested",
        InboxChange.Released => "fight.released",
        InboxChange.BriefingPosted => "fight.briefing_posted",
        InboxChange.ReportFiled => "fight.report_filed",
        InboxChange.Accepted => "fight.accepted",
        InboxChange.Declined => "fight.declined",
        InboxChange.StandDownAcknowledged => "fight.stand_down_acknowledged",
        InboxChange.ActionReported => "fight.action_reported",
        InboxChange.Reminder => "reminder",
        InboxChange.Published => "callout.published",
        InboxChange.Updated => "callout.updated",
        InboxChange.Responded => "callout.responded",
        InboxChange.Closed => "callout.closed",
        InboxChange.Cancelled => "callout.cancelled",
        InboxChange.Expired => "callout.expired",
        _ => "callout.changed",
    };

    public static string Verb(CallOutResponse? r) => r?.Kind switch
    {
        ResponseKind.Pledge => $"pledged ({r.PlannedDate}{(r.Place.Length > 0 ? $", {r.Place}" : "")})",
        ResponseKind.Decline => "declined" + (r.Reason.Length > 0 ? $" ({r.Reason})" : ""),
        ResponseKind.Unable => "is unable after all" + (r.Reason.Length > 0 ? $" ({r.Reason})" : ""),
        ResponseKind.ReportBack when r.Withheld => "reported back (to the issuer only)",
        ResponseKind.ReportBack => $"reported back (turnout {r.Turnout})",
        _ => "responded",
    };
}
