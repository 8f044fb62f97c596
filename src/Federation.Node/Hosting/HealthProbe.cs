using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Federation.Node.Hosting;

/// <summary>
/// <c>federation-node health</c>: asks a node on this machine for its gRPC health and exits
/// 0 when it is SERVING, 1 otherwise, for container and service-manager health checks that
/// have no gRPC client of their own (compose/docker-compose.yml).
/// </summary>
public static class HealthProbe
{
    public const string Usage = "federation-node health [--port PORT (5000)] [--host HOST (127.0.0.1)] [--service readiness|liveness] [--tls]";

    public static bool Handles(string[] args) => args.Length > 0 && args[0] == "health";

    public static async Task<int> RunAsync(string[] args)
    {
        string? Flag(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        if (!int.TryParse(Flag("--port") ?? "5000", out var port) || port is <= 0 or > 65535)
        {
            Console.Error.WriteLine($"--port must be a port number.\n{Usage}");
            return 2;
        }
        var tls = args.Contains("--tls");
        var address = $"{(tls ? "https" : "http")}://{Flag("--host") ?? "127.0.0.1"}:{port}";
        var service = Flag("--service") ?? "readiness";
        var handler = new SocketsHttpHandler();
        if (tls)
        {
            // The node's certificate is self-signed over its key. A health answer carries no
            // data, and the probe is on the node's own machine: any certificate will do here.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler });
        try
        {
            var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = service },
                deadline: DateTime.UtcNow.AddSeconds(5));
            Console.WriteLine($"{address} {service}: {reply.Status}");
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
        }
        catch (RpcException ex)
        {
            Console.WriteLine($"{address} {service}: no answer ({ex.StatusCode}: {ex.Status.Detail})");
            return 1;
        }
    }
}
