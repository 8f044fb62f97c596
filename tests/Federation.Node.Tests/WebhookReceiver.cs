using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Federation.Node.Tests;

/// <summary>A request the receiver got, with the exact body bytes (signatures are over bytes).</summary>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, int AnsweredWith, DateTimeOffset ReceivedAt)
{
    /// <summary>The inbox item the body carries (protobuf's JSON mapping).</summary>
    public Contracts.V1.InboxItem Item() => Google.Protobuf.JsonParser.Default.Parse<Contracts.V1.InboxItem>(System.Text.Encoding.UTF8.GetString(Body));
}

/// <summary>
/// A real HTTP server on a loopback port standing in for a chat bot or mailing-list
/// relay. It can be told to fail the first few requests, to test retries.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    private WebhookReceiver(WebApplication app, int port)
    {
        _app = app;
        Url = $"http://127.0.0.1:{port}/hook";
    }

    public string Url { get; }
    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>How many more requests to fail; a test can change it while the receiver runs.</summary>
    public int FailuresLeft
    {
        get => Volatile.Read(ref _failuresLeft);
        set => Volatile.Write(ref _failuresLeft, value);
    }

    /// <summary>The requests answered 2xx, in order.</summary>
    public IReadOnlyList<ReceivedRequest> Accepted => Requests.Where(r => r.AnsweredWith == 200).ToList();

    /// <summary>Starts a receiver that answers <paramref name="failStatus"/> to the first <paramref name="failFirst"/> requests (a 3xx redirects to itself).</summary>
    public static async Task<WebhookReceiver> StartAsync(int failFirst = 0, int failStatus = 500)
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, port) { _failuresLeft = failFirst };
        app.MapPost("/hook", async (HttpContext http) =>
        {
            var receivedAt = DateTimeOffset.UtcNow;
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            var status = Interlocked.Decrement(ref receiver._failuresLeft) >= 0 ? failStatus : 200;
            receiver.Requests.Enqueue(new ReceivedRequest(http.Request.Path, http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body.ToArray(), status, receivedAt));
            http.Response.StatusCode = status;
            if (status is >= 300 and < 400)
            {
                http.Response.Headers.Location = receiver.Url;
            }
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
