using Federation.Load.Bench;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Federation.Load;

/// <summary>The raw transport: a gRPC server that does nothing but answer, with the same payload size.</summary>
public static class Baseline
{
    public sealed class EchoService : Echo.EchoBase
    {
        private static readonly Ack One = new() { N = 1 };

        public override Task<Ack> Unary(Blob request, ServerCallContext context) => Task.FromResult(One);

        public override async Task Stream(IAsyncStreamReader<Blob> requests, IServerStreamWriter<Ack> responses, ServerCallContext context)
        {
            await foreach (var _ in requests.ReadAllAsync(context.CancellationToken))
            {
                await responses.WriteAsync(One);
            }
        }
    }

    public static async Task<(double Unary, double Streaming)> RunAsync(Profile p, int payloadBytes, List<Row> rows)
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        await using var app = builder.Build();
        app.MapGrpcService<EchoService>();
        await app.StartAsync();

        var blob = new Blob { Data = ByteString.CopyFrom(new byte[payloadBytes]) };
        var channels = Drive.Channels($"http://127.0.0.1:{port}", p.Callers);
        var clients = channels.Select(c => new Echo.EchoClient(c)).ToArray();

        Report.Progress($"Baseline: unary, {p.Callers} callers, {payloadBytes}-byte payload, {p.Window.TotalSeconds}s…");
        var unary = await Drive.RunAsync(p.Callers, p, async i =>
        {
            await clients[i % clients.Length].UnaryAsync(blob);
            return true;
        });
        var unaryRate = unary.Count / unary.Seconds;
        Report.Progress($"  {Report.F(unaryRate)} calls/s");

        Report.Progress($"Baseline: streaming, {p.Callers} streams…");
        var streams = Enumerable.Range(0, p.Callers).Select(i => clients[i % clients.Length].Stream()).ToArray();
        var streaming = await Drive.RunAsync(p.Callers, p, async i =>
        {
            // One message out and its ack back, on a stream that stays open.
            await streams[i].RequestStream.WriteAsync(blob);
            if (!await streams[i].ResponseStream.MoveNext(CancellationToken.None))
            {
                throw new InvalidOperationException("The stream ended early.");
            }
            return true;
        });
        foreach (var s in streams)
        {
            await s.RequestStream.CompleteAsync();
            s.Dispose();
        }
        var streamRate = streaming.Count / streaming.Seconds;
        Report.Progress($"  {Report.F(streamRate)} messages/s");
        foreach (var c in channels)
        {
            c.Dispose();
        }
        await app.StopAsync();

        rows.Add(new Row($"Baseline: trivial gRPC unary ({p.Callers} callers, {payloadBytes} B)", $"{Report.F(unaryRate)} calls/s"));
        rows.Add(new Row($"Baseline: trivial gRPC streaming ({p.Callers} streams, {payloadBytes} B)", $"{Report.F(streamRate)} messages/s"));
        return (unaryRate, streamRate);
    }
}
