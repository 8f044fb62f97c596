using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Federation.Dashboard.Tests;

/// <summary>
/// Two peered nodes shared by the tests of one class: starting nodes is most of a
/// browser test's time. Each test makes its own call-outs and fights, so tests do not
/// depend on each other's order.
/// </summary>
public sealed class TwoNodes : IAsyncLifetime
{
    public DashboardNode Alpha { get; private set; } = null!;
    public DashboardNode Beta { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Alpha = await DashboardNode.StartAsync("alpha");
        Beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(Alpha, Beta);
    }

    public async Task DisposeAsync()
    {
        await Alpha.DisposeAsync();
        await Beta.DisposeAsync();
    }
}

/// <summary>Three peered networks in three regions, so the inbox has issuers to tell apart.</summary>
public sealed class ThreeRegions : IAsyncLifetime
{
    public DashboardNode Leeds { get; private set; } = null!;
    public DashboardNode York { get; private set; } = null!;
    public DashboardNode Glasgow { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Leeds = await DashboardNode.StartAsync("leeds", region: "Leeds");
        York = await DashboardNode.StartAsync("york", region: "York");
        Glasgow = await DashboardNode.StartAsync("glasgow", region: "Glasgow");
        await DashboardNode.PeerAsync(Leeds, York, Glasgow);
    }

    public async Task DisposeAsync()
    {
        await Leeds.DisposeAsync();
        await York.DisposeAsync();
        await Glasgow.DisposeAsync();
    }
}

/// <summary>A real HTTP server on a loopback port standing in for a chat bot that relays webhooks.</summary>
public sealed class HookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HookReceiver(WebApplication app, int port)
    {
        _app = app;
        Url = $"http://127.0.0.1:{port}/hook";
    }

    public string Url { get; }

    /// <summary>The X-Solnet-Signature header of every request received.</summary>
    public ConcurrentQueue<string> Signatures { get; } = new();

    public static async Task<HookReceiver> StartAsync()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new HookReceiver(app, port);
        app.MapPost("/hook", (HttpContext http) =>
        {
            receiver.Signatures.Enqueue(http.Request.Headers["X-Solnet-Signature"].ToString());
            return Results.Ok();
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
