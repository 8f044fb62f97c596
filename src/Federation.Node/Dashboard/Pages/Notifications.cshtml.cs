using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Notifications;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>
/// Webhooks and e-mail recipients told of new and changed call-outs and of the fight events
/// this network must act on, and how each
/// delivery went (operator only). The same NotificationChannels service as `solnet notify`.
/// </summary>
public sealed class NotificationsModel(DashboardContext context, NotificationChannels channels) : DashboardPage(context)
{
    public IReadOnlyList<NotificationChannel> Channels { get; private set; } = [];
    public IReadOnlyList<NotificationDelivery> Deliveries { get; private set; } = [];

    public bool Allowed => Can("ListNotificationChannels");

    protected override void Load()
    {
        if (Allowed)
        {
            Channels = Read("ListNotificationChannels", channels.List);
            Deliveries = Read("ListNotificationDeliveries", () => channels.Deliveries("", 50));
        }
    }

    public static string KnownKinds => NotificationKinds.Known;

    public Task<IActionResult> OnPostWebhookAsync(string? url, string? secret, string? kinds, CancellationToken ct) =>
        RunAsync("AddWebhook", () => channels.AddWebhookAsync(url?.Trim() ?? "", secret ?? "", [kinds ?? ""], ct),
            "The webhook is added. What your network must hear of is posted to it, signed with its secret.");

    public Task<IActionResult> OnPostEmailAsync(string? address, string? kinds, CancellationToken ct) =>
        RunAsync("AddEmailRecipient", () => channels.AddEmailAsync(address?.Trim() ?? "", [kinds ?? ""], ct),
            "The e-mail recipient is added.");

    public Task<IActionResult> OnPostRemoveAsync(string? channel, CancellationToken ct) =>
        RunAsync("RemoveNotificationChannel", () => channels.RemoveAsync(channel ?? "", ct),
            "The channel is removed; nothing more is sent to it.");

    public string Describe(NotificationDelivery d) => d.State switch
    {
        "delivered" => $"delivered {When(d.DeliveredAt)}",
        "failed" => "failed: given up",
        _ => d.Attempts > 0 ? $"pending: next try {When(d.NextAttemptAt)}" : "pending",
    };

    public static string Describe(InboxChange c) => c switch
    {
        InboxChange.Published => "published",
        InboxChange.Updated => "updated",
        InboxChange.Responded => "responded",
        InboxChange.Closed => "closed",
        InboxChange.Cancelled => "cancelled",
        InboxChange.Expired => "expired",
        InboxChange.Invited => "invitation",
        InboxChange.Amended => "terms amended",
        InboxChange.StandDown => "stand-down",
        InboxChange.ReleaseRequested => "release requested",
        InboxChange.Released => "released",
        InboxChange.BriefingPosted => "briefing",
        _ => "changed",
    };
}
