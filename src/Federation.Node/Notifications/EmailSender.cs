using System.Text;
using Federation.Contracts.V1;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Federation.Node.Notifications;

/// <summary>Sends an inbox item (a call-out's change or a fight's notice) as a plain-text e-mail over SMTP (MailKit).</summary>
public sealed class EmailSender(IOptions<CallOutOptions> options)
{
    /// <summary>Null when the server accepted the message; otherwise what went wrong, for the delivery status.</summary>
    public async Task<string?> SendAsync(string to, long deliveryId, InboxItem item, CancellationToken ct)
    {
        var smtp = options.Value.Smtp;
        if (!smtp.Configured)
        {
            return "SMTP is not configured (Node:Smtp:Host and Node:Smtp:From)";
        }
        try
        {
            var message = Compose(MailboxAddress.Parse(smtp.From), MailboxAddress.Parse(to), deliveryId, item);
            using var client = new SmtpClient { Timeout = (int)options.Value.Notifications.Timeout.TotalMilliseconds };
            await client.ConnectAsync(smtp.Host, smtp.Port, Security(smtp.Security), ct);
            if (smtp.Username.Length > 0)
            {
                await client.AuthenticateAsync(smtp.Username, smtp.Password, ct);
            }
            await client.SendAsync(message, ct);
            await client.DisconnectAsync(quit: true, ct);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Whatever went wrong (refused, unreachable, TLS, a bad address, a timeout) is a
            // failed attempt: recorded, shown, and retried with backoff, never a silent loop.
            return $"SMTP: {ex.Message}";
        }
    }

    public static MimeMessage Compose(MailboxAddress from, MailboxAddress to, long deliveryId, InboxItem item)
    {
        var message = new MimeMessage();
        message.From.Add(from);
        message.To.Add(to);
        var subject = item.Summary.ReplaceLineEndings(" ");
        message.Subject = "[solnet] " + (subject.Length > 150 ? subject[..150] + "…" : subject);
        message.MessageId = $"{InboxItems.ObjectId(item)}.{item.Sequence}.{deliveryId}@solnet";
        message.Body = new TextPart("plain") { Text = Text(item) };
        return message;
    }

    public static string Text(InboxItem item)
    {
        var s = new StringBuilder();
        s.AppendLine(item.Summary).AppendLine();
        if (item.ChangedFields.Count > 0)
        {
            s.AppendLine($"What changed: {string.Join(", ", item.ChangedFields)}").AppendLine();
        }
        // What happened, where to read it and how to answer, no more: a mailbox is kept and
        // searched long after, so the details stay on the node (issue 15 #9, issue 17 #1).
        if ((item.Title.Length > 0 ? item.Title : item.CallOut?.Content?.Title) is { Length: > 0 } title)
        {
            s.AppendLine($"Title: {title}");
        }
        s.AppendLine().AppendLine(item.FightId.Length > 0 ? $"Fight {item.FightId}" : $"Call-out {item.CallOutId}");
        if (item.Link.Length > 0)
        {
            s.AppendLine($"Open it: {item.Link}");
        }
        s.AppendLine(item.FightId.Length > 0 ? $"Answer with: {item.Act}" : $"See it with: solnet callout show {item.CallOutId}");
        return s.ToString();
    }

    public static string Describe(ActionType a) => a switch
    {
        ActionType.Picket => "picket",
        ActionType.PhoneEmailBlockade => "phone/e-mail blockade",
        ActionType.Leafleting => "leafleting customers",
        ActionType.NoiseDemo => "noise demo",
        ActionType.CallInDay => "call-in day",
        ActionType.Online => "online",
        _ => a.ToString(),
    };

    // No "auto": MailKit's Auto sends in clear to a server that does not offer STARTTLS,
    // which is what an attacker on the path makes it say. Cleartext is "none", said on purpose.
    private static SecureSocketOptions Security(string value) => value.ToLowerInvariant() switch
    {
        "none" => SecureSocketOptions.None,
        "ssl" or "tls" => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.StartTls,
    };
}
