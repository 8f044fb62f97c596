using System.Security.Cryptography;
using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Federation.Node.Notifications;

/// <summary>The operator's notification channels: webhooks and e-mail recipients, each sent every kind of notification or only those it names, and what was sent to them.</summary>
public sealed class NotificationChannels(IFederationStore store, IOptions<CallOutOptions> options, WebhookTargets targets)
{
    public const string Webhook = "webhook";
    public const string Email = "email";
    public const int MinSecretLength = 16;

    public async Task<NotificationChannel> AddWebhookAsync(string url, string secret, IEnumerable<string> kinds, CancellationToken ct)
    {
        var only = NotificationKinds.Parse(kinds);
        Text.Check("webhook URL", url, 2000, required: true);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw RuleViolation.Invalid($"'{Identifiers.Truncate(url)}' is not a webhook URL; expected http:// or https://.");
        }
        Text.Check("webhook secret", secret, 500, required: true);
        if (secret.Length < MinSecretLength)
        {
            throw RuleViolation.Invalid($"The webhook secret signs every delivery; use at least {MinSecretLength} characters (for example: openssl rand -hex 32).");
        }
        await targets.CheckAsync(uri, ct);
        return await AddAsync(Webhook, uri.ToString(), secret, only, ct);
    }

    public async Task<NotificationChannel> AddEmailAsync(string address, IEnumerable<string> kinds, CancellationToken ct)
    {
        var only = NotificationKinds.Parse(kinds);
        Text.Check("e-mail address", address, Text.ShortMax, required: true);
        if (!MailboxAddress.TryParse(address.Trim(), out var mailbox) || !mailbox.Address.Contains('@'))
        {
            throw RuleViolation.Invalid($"'{Identifiers.Truncate(address)}' is not an e-mail address.");
        }
        if (!options.Value.Smtp.Configured)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, "notifications",
                "E-mail needs an SMTP server: set Node:Smtp:Host and Node:Smtp:From (and Port, Username, Password as your provider says), then restart the node.");
        }
        return await AddAsync(Email, mailbox.Address, null, only, ct);
    }

    public IReadOnlyList<NotificationChannel> List() => store.ListChannels().Select(ToMessage).ToList();

    public async Task<NotificationChannel> RemoveAsync(string id, CancellationToken ct)
    {
        var channel = store.ListChannels().FirstOrDefault(c => c.Id == id && c.Active)
            ?? throw RuleViolation.NotFound($"No active notification channel '{Identifiers.Truncate(id)}' here; 'solnet notify list' shows them.");
        await store.WriteAsync(tx => tx.DeactivateChannel(id), ct);
        return ToMessage(channel with { Active = false });
    }

    public IReadOnlyList<NotificationDelivery> Deliveries(string channelId, uint limit)
    {
        var channels = store.ListChannels().ToDictionary(c => c.Id);
        if (channelId.Length > 0 && !channels.ContainsKey(channelId))
        {
            throw RuleViolation.NotFound($"No notification channel '{Identifiers.Truncate(channelId)}' here.");
        }
        var take = limit is 0 or > 1000 ? 50 : (int)limit;
        return store.ListDeliveries(channelId.Length > 0 ? channelId : null, take).Select(d =>
        {
            channels.TryGetValue(d.ChannelId, out var ch);
            // A reminder's change does not say whether it is about a fight or a call-out: the object does.
            var fight = (InboxChange)d.Change == InboxChange.Reminder
                ? store.GetObject(d.ObjectId)?.Kind == ObjectKind.Fight
                : InboxItems.IsFightChange((InboxChange)d.Change);
            return new NotificationDelivery
            {
                Id = (ulong)d.Id,
                ChannelId = d.ChannelId,
                Kind = ch?.Kind ?? "",
                Target = ch?.Target ?? "",
                Cursor = (ulong)d.Cursor,
                CallOutId = fight ? "" : d.ObjectId,
                FightId = fight ? d.ObjectId : "",
                Change = (InboxChange)d.Change,
                State = d.State,
                Attempts = (uint)d.Attempts,
                LastError = d.LastError ?? "",
                CreatedAt = Timestamp.FromDateTimeOffset(d.CreatedAt),
                NextAttemptAt = d.State == DeliveryStates.Pending ? Timestamp.FromDateTimeOffset(d.NextAttemptAt) : null,
                DeliveredAt = d.DeliveredAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
            };
        }).ToList();
    }

    private async Task<NotificationChannel> AddAsync(string kind, string target, string? secret, IReadOnlyList<string> kinds, CancellationToken ct)
    {
        var record = new ChannelRecord($"{(kind == Webhook ? "wh" : "em")}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}",
            kind, target, secret, true, DateTimeOffset.UtcNow, string.Join(",", kinds));
        await store.WriteAsync(tx =>
        {
            tx.AddChannel(record);
            return true;
        }, ct);
        return ToMessage(record);
    }

    // The secret never leaves the node again once it is set.
    private static NotificationChannel ToMessage(ChannelRecord c) => new()
    {
        Id = c.Id,
        Kind = c.Kind,
        Target = c.Target,
        Active = c.Active,
        CreatedAt = Timestamp.FromDateTimeOffset(c.CreatedAt),
        Kinds = { c.KindList },
    };
}
