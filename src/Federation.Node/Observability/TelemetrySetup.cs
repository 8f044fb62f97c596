using Federation.Core.Telemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Federation.Node.Observability;

/// <summary>Settings under <c>Node:Telemetry</c> (docs/operators.md, "Observability").</summary>
public sealed class TelemetryOptions
{
    /// <summary>
    /// Where to send traces and metrics over OTLP, e.g. <c>http://collector:4317</c>. Empty:
    /// the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is used if set; otherwise nothing is
    /// exported and nothing leaves the process.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary><c>grpc</c> (port 4317 by convention) or <c>http/protobuf</c> (4318).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>How often metrics are exported.</summary>
    public TimeSpan MetricInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The service name peers' and operators' collectors show.</summary>
    public string ServiceName { get; set; } = "federation-node";
}

public static class TelemetrySetup
{
    private static TelemetryOptions Options(IConfiguration configuration) =>
        configuration.GetSection("Node:Telemetry").Get<TelemetryOptions>() ?? new TelemetryOptions();

    /// <summary>The OTLP endpoint in use: <c>Node:Telemetry:OtlpEndpoint</c>, else <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, else none.</summary>
    public static string? Endpoint(IConfiguration configuration) =>
        Options(configuration).OtlpEndpoint is { Length: > 0 } e ? e
            : configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 } standard ? standard
            : null;

    /// <summary>For the start-up banner.</summary>
    public static string Describe(IConfiguration configuration) => Endpoint(configuration) is { } e
        ? $"traces and metrics over OTLP ({Options(configuration).OtlpProtocol}) to {e}"
        : "off (set Node:Telemetry:OtlpEndpoint to export traces and metrics)";

    /// <summary>
    /// Registers the node's instruments, and the OpenTelemetry SDK with an OTLP exporter
    /// only when an endpoint is configured: without one, no SDK listens, so spans are
    /// not even created. Returns the endpoint in use, or null.
    /// </summary>
    public static string? AddFederationTelemetry(this IServiceCollection services, IConfiguration configuration, string nodeName)
    {
        services.AddSingleton<NodeTelemetry>();
        var options = Options(configuration);
        var endpoint = Endpoint(configuration);
        if (endpoint is null)
        {
            return null;
        }
        var protocol = options.OtlpProtocol.Equals("http/protobuf", StringComparison.OrdinalIgnoreCase)
            ? OtlpExportProtocol.HttpProtobuf
            : options.OtlpProtocol.Equals("grpc", StringComparison.OrdinalIgnoreCase)
                ? OtlpExportProtocol.Grpc
                : throw new InvalidOperationException($"Node:Telemetry:OtlpProtocol is '{options.OtlpProtocol}'; use 'grpc' or 'http/protobuf'.");
        var baseUri = Uri.TryCreate(endpoint, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
            ? u
            : throw new InvalidOperationException($"The OTLP endpoint '{endpoint}' is not an http:// or https:// address.");

        // Over HTTP each signal has its own path; over gRPC the service name routes it.
        Uri For(string signal) => protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(baseUri, baseUri.AbsolutePath.TrimEnd('/') + "/v1/" + signal)
            : baseUri;

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName, serviceInstanceId: $"{nodeName}/{Environment.MachineName}/{Environment.ProcessId}")
                .AddAttributes([new("federation.network", nodeName)]))
            .WithTracing(t => t
                .AddSource(NodeTelemetry.Name)
                // Server spans for every gRPC call and dashboard page; the traceparent a
                // calling peer sends (its delivery span) becomes their parent.
                .AddAspNetCoreInstrumentation(a => a.RecordException = false)
                .AddOtlpExporter(o =>
                {
                    o.Protocol = protocol;
                    o.Endpoint = For("traces");
                }))
            .WithMetrics(m => m
                .AddMeter(NodeTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter((o, reader) =>
                {
                    o.Protocol = protocol;
                    o.Endpoint = For("metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.MetricInterval.TotalMilliseconds;
                }));
        return endpoint;
    }
}
