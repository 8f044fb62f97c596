using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Federation.Core;
using Federation.Node.Fediverse;
using Federation.Testing;

namespace Federation.Node.Tests;

/// <summary>Starts test nodes whose fediverse actor is on, on the dashboard's port.</summary>
public static class FediverseNodes
{
    public const string Account = "leeds-solnet";

    /// <param name="https">Serve the dashboard port over TLS (--tls), as Fedify's WebFinger lookup needs.</param>
    public static Task<TestNode> StartAsync(string name, bool https = false, Action<NodeOptions>? more = null) =>
        TestNode.StartAsync(name, o =>
        {
            o.DashboardPort = o.Port + 3000;
            o.Fediverse = new FediverseOptions
            {
                Enabled = true,
                BaseUrl = $"{(https ? "https" : "http")}://127.0.0.1:{o.Port + 3000}",
                Account = Account,
                // The tests' remote actors listen on loopback.
                AllowPrivateAddresses = true,
                MaxInboxBytes = 64 * 1024,
            };
            more?.Invoke(o);
        }, https ? ["--tls"] : []);

    public static string BaseUrl(TestNode node) => $"http://127.0.0.1:{node.Port + 3000}";
}

/// <summary>
/// A remote fediverse actor on loopback for the refusal tests: it serves its actor document
/// with an RSA key, collects what its inbox receives, and signs posts the cavage way.
/// </summary>
public sealed class FakeRemoteActor : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();

    public FakeRemoteActor(string name = "supporter")
    {
        Port = Ports.Free();
        Base = $"http://127.0.0.1:{Port}";
        Id = $"{Base}/users/{name}";
        _listener.Prefixes.Add(Base + "/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string Base { get; }
    public string Id { get; }
    public string KeyId => Id + "#main-key";
    public string Inbox => Id + "/inbox";
    public RSA Key { get; } = RSA.Create(2048);
    public ConcurrentQueue<string> Received { get; } = new();

    public JsonObject Document() => new()
    {
        ["@context"] = new JsonArray("https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"),
        ["id"] = Id,
        ["type"] = "Person",
        ["preferredUsername"] = "supporter",
        ["inbox"] = Inbox,
        ["publicKey"] = new JsonObject { ["id"] = KeyId, ["owner"] = Id, ["publicKeyPem"] = Key.ExportSubjectPublicKeyInfoPem() },
    };

    public JsonObject Follow(string target, string? actor = null) => new()
    {
        ["@context"] = "https://www.w3.org/ns/activitystreams",
        ["id"] = $"{Id}/follows/{Guid.NewGuid():N}",
        ["type"] = "Follow",
        ["actor"] = actor ?? Id,
        ["object"] = target,
    };

    /// <summary>POSTs <paramref name="body"/> to <paramref name="inbox"/>, signed with this actor's key unless told otherwise.</summary>
    public async Task<HttpResponseMessage> PostAsync(string inbox, byte[] body, bool sign = true, string? keyId = null, RSA? key = null,
        Action<HttpRequestMessage>? tamper = null)
    {
        using var http = new HttpClient();
        var target = new Uri(inbox);
        var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/activity+json");
        if (sign)
        {
            foreach (var (name, value) in HttpSignatures.SignPost(target, body, keyId ?? KeyId, key ?? Key, DateTimeOffset.UtcNow))
            {
                if (name != "Host")
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }
        }
        tamper?.Invoke(request);
        return await http.SendAsync(request);
    }

    public static byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext c;
            try
            {
                c = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            var path = c.Request.Url!.AbsolutePath;
            if (c.Request.HttpMethod == "GET" && path == new Uri(Id).AbsolutePath)
            {
                var bytes = Bytes(Document());
                c.Response.ContentType = "application/activity+json";
                await c.Response.OutputStream.WriteAsync(bytes);
            }
            else if (c.Request.HttpMethod == "POST" && path == new Uri(Inbox).AbsolutePath)
            {
                using var reader = new StreamReader(c.Request.InputStream);
                Received.Enqueue(await reader.ReadToEndAsync());
                c.Response.StatusCode = 202;
            }
            else
            {
                c.Response.StatusCode = 404;
            }
            c.Response.Close();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        Key.Dispose();
    }
}
