using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Federation.Core;
using Federation.Core.Fediverse;

namespace Federation.Node.Fediverse;

/// <summary>A remote actor as far as this node uses it: its key, and where to send to it.</summary>
public sealed record RemoteActor(string Id, string Inbox, string SharedInbox, string KeyId, string PublicKeyPem);

/// <summary>Why a remote address was not dialled or did not answer usefully.</summary>
public sealed class RemoteFetchException(string message) : Exception(message);

/// <summary>
/// The actor's one door outwards (docs/security.md "The fediverse actor"): fetching a
/// follower's actor document, to check a signature or learn its inbox, and delivering to
/// inboxes. Bounded: a deadline per request, a size cap, https only unless private
/// addresses are allowed, no redirects, and no connection to a loopback, private or
/// link-local address unless Node:Fediverse:AllowPrivateAddresses says so (checked on the
/// address actually connected to, so DNS cannot point a name inside afterwards).
/// </summary>
public sealed class RemoteActors : IDisposable
{
    private readonly FediverseSite _site;
    private readonly HttpClient _http;

    public RemoteActors(FediverseSite site)
    {
        _site = site;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = site.Options.RemoteTimeout,
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = site.Options.RemoteTimeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("solnet-fediverse/1");
    }

    /// <summary>The client deliveries use: the same guards as fetches.</summary>
    public HttpClient Http => _http;

    /// <summary>Checks a URL a remote party gave before anything is dialled.</summary>
    public void RequireDialable(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.UserInfo.Length > 0)
        {
            throw new RemoteFetchException($"{url} is not an http(s) address.");
        }
        if (uri.Scheme == "http" && !_site.Options.AllowPrivateAddresses)
        {
            throw new RemoteFetchException($"{url} is not https; this node speaks to the fediverse over https only.");
        }
    }

    /// <summary>Fetches the actor that owns <paramref name="keyId"/> (a key id is the actor's address with a fragment, as Mastodon and Fedify make them).</summary>
    public async Task<RemoteActor> ByKeyAsync(string keyId, CancellationToken ct)
    {
        var doc = await FetchAsync(keyId, ct);
        // A key id that names a key document on its own: its owner is the actor.
        if (doc.TryGetProperty("publicKeyPem", out _) && Str(doc, "owner") is { } owner)
        {
            doc = await FetchAsync(owner, ct);
        }
        return Read(doc, keyId);
    }

    public async Task<RemoteActor> ByIdAsync(string actorId, CancellationToken ct) => Read(await FetchAsync(actorId, ct), null);

    private async Task<JsonElement> FetchAsync(string url, CancellationToken ct)
    {
        RequireDialable(url);
        var withoutFragment = new Uri(url).GetLeftPart(UriPartial.Query);
        using var request = new HttpRequestMessage(HttpMethod.Get, withoutFragment);
        request.Headers.Accept.ParseAdd("application/activity+json");
        request.Headers.Accept.ParseAdd("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
        {
            throw new RemoteFetchException($"Could not fetch {withoutFragment}: {ex.Message}");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new RemoteFetchException($"{withoutFragment} answered {(int)response.StatusCode}.");
            }
            var max = _site.Options.MaxRemoteDocumentBytes;
            if (response.Content.Headers.ContentLength > max)
            {
                throw new RemoteFetchException($"{withoutFragment} is larger than {max} bytes.");
            }
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int n;
            while ((n = await stream.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > max)
                {
                    throw new RemoteFetchException($"{withoutFragment} is larger than {max} bytes.");
                }
            }
            try
            {
                using var json = JsonDocument.Parse(buffer.ToArray());
                return json.RootElement.ValueKind == JsonValueKind.Object
                    ? json.RootElement.Clone()
                    : throw new RemoteFetchException($"{withoutFragment} is not a JSON object.");
            }
            catch (JsonException)
            {
                throw new RemoteFetchException($"{withoutFragment} is not JSON.");
            }
        }
    }

    private RemoteActor Read(JsonElement doc, string? keyId)
    {
        var id = Str(doc, "id") ?? throw new RemoteFetchException("The actor document has no id.");
        var inbox = Str(doc, "inbox") ?? throw new RemoteFetchException($"The actor {id} has no inbox.");
        RequireDialable(inbox);
        var shared = doc.TryGetProperty("endpoints", out var endpoints) && endpoints.ValueKind == JsonValueKind.Object
            ? Str(endpoints, "sharedInbox") ?? "" : "";
        if (shared.Length > 0)
        {
            RequireDialable(shared);
        }
        var keys = doc.TryGetProperty("publicKey", out var pk)
            ? pk.ValueKind == JsonValueKind.Array ? pk.EnumerateArray().ToList() : [pk]
            : [];
        foreach (var key in keys.Where(k => k.ValueKind == JsonValueKind.Object))
        {
            var kid = Str(key, "id");
            var pem = Str(key, "publicKeyPem");
            // The key must be the one the signature named and say it belongs to this actor.
            if (pem is not null && kid is not null && (keyId is null || kid == keyId) && (Str(key, "owner") ?? id) == id)
            {
                return new RemoteActor(id, inbox, shared, kid, pem);
            }
        }
        if (keyId is not null)
        {
            throw new RemoteFetchException($"The actor {id} does not list the key {keyId} as its own.");
        }
        return new RemoteActor(id, inbox, shared, "", "");
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct);
        var allowed = addresses.Where(a => _site.Options.AllowPrivateAddresses || !IsPrivate(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(
                $"{context.DnsEndPoint.Host} is a loopback, private or link-local address; the fediverse actor does not dial inside its own network (Node:Fediverse:AllowPrivateAddresses).");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Loopback, RFC 1918, CGNAT, link-local, unique-local and unspecified addresses.</summary>
    public static bool IsPrivate(IPAddress a)
    {
        if (a.IsIPv4MappedToIPv6)
        {
            a = a.MapToIPv4();
        }
        if (IPAddress.IsLoopback(a) || a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any))
        {
            return true;
        }
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            return b[0] == 10 || b[0] == 0 || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] >= 64 && b[1] <= 127);
        }
        return a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6UniqueLocal;
    }

    public void Dispose() => _http.Dispose();
}
