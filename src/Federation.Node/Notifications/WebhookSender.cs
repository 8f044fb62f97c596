using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Federation.Contracts.V1;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace Federation.Node.Notifications;

/// <summary>
/// POSTs an inbox item as JSON, signed so the receiver can tell it came from this node
/// and was not replayed: X-Solnet-Signature is "sha256=" and the hex HMAC-SHA256, keyed
/// with the channel's secret, of the X-Solnet-Timestamp value, a ".", and the body bytes.
/// (The same scheme as Stripe's and Slack's, so existing verifier code fits.)
/// </summary>
public sealed class WebhookSender(IHttpClientFactory http, IOptions<CallOutOptions> options)
{
    public const string ClientName = "webhooks";
    public const string SignatureHeader = "X-Solnet-Signature";
    public const string TimestampHeader = "X-Solnet-Timestamp";
    public const string EventHeader = "X-Solnet-Event";
    public const string DeliveryHeader = "X-Solnet-Delivery";

    public static string Body(InboxItem item) => JsonFormatter.Default.Format(item);

    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>Null when the receiver answered 2xx; otherwise what went wrong, for the delivery status.</summary>
    public async Task<string?> SendAsync(string url, string secret, long deliveryId, InboxItem item, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(Body(item));
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(secret, timestamp, body));
        request.Headers.Add(EventHeader, InboxItems.EventName(item.Change));
        request.Headers.Add(DeliveryHeader, deliveryId.ToString(CultureInfo.InvariantCulture));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.Notifications.Timeout);
        try
        {
            using var response = await http.CreateClient(ClientName).SendAsync(request, timeout.Token);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"no answer within {options.Value.Notifications.Timeout.TotalSeconds:0.#}s";
        }
        catch (HttpRequestException ex)
        {
            return ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : $"{ex.HttpRequestError}: {ex.Message}";
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Any other failure is a failed attempt too: recorded and retried, never a silent loop.
            return ex.Message;
        }
    }
}
