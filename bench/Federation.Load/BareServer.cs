using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Federation.Load;

/// <summary>
/// The yardstick for a node's start (issue 20 #4): the smallest ASP.NET Core gRPC server that
/// answers a health check, run by this tool as a process of its own (<c>--bare-server PORT</c>)
/// on the same runtime settings as the node, and timed from process start to SERVING exactly
/// as the node is.
/// </summary>
public static class BareServer
{
    public const string Flag = "--bare-server";

    public static async Task<int> RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        // One check that always holds, as the node's liveness check: with none, health reads UNKNOWN.
        builder.Services.AddGrpcHealthChecks().AddCheck("process", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        await using var app = builder.Build();
        app.MapGrpcHealthChecksService();
        await app.RunAsync();
        return 0;
    }
}
