using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Federation.Contracts.V1;
using Federation.Core.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Federation.Node.Tests;

/// <summary>
/// The node's traces and metrics (the <c>Federation.Node</c> source and meter), read by an
/// in-process listener while two real nodes federate, as an OpenTelemetry collector would
/// read them through the SDK.
/// </summary>
public sealed class ObservabilityTests
{
    [Fact]
    public async Task DeliveryAndApplicationShowInCountersAndSpansAndOneTraceCrossesTheTwoNodes()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        using var spans = new SpanRecorder();
        using var alphaMetrics = new MetricRecorder(alpha);
        using var betaMetrics = new MetricRecorder(beta);
        await TestNode.PeerAsync(alpha, beta);
        // No OTLP endpoint is configured: no SDK runs, so nothing is exported (the listeners here are the test's own).
        Assert.Null(alpha.Services.GetService<OpenTelemetry.Trace.TracerProvider>());
        Assert.Null(alpha.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());

        var published = await alpha.PublishAsync(beta);
        await Eventually.TrueAsync(() => beta.Store.GetObject(published.Id) is not null, "the call-out to reach beta");
        await Eventually.TrueAsync(() => alphaMetrics.Sum("federation.delivery.batches", beta.NodeId) >= 1, "alpha to count a batch sent to beta");

        Assert.True(alphaMetrics.Sum("federation.delivery.items", beta.NodeId) >= 1);
        Assert.True(betaMetrics.Sum("federation.events.applied") >= 1, "beta counts the event it applied");
        Assert.Equal(0, alphaMetrics.Sum("federation.events.applied")); // alpha applied nobody's events
        Assert.Equal(0, alphaMetrics.Sum("federation.delivery.failures", beta.NodeId));

        // Alpha's delivery span and beta's apply span are one trace: the traceparent crossed the wire.
        var deliver = spans.Wait(a => a.OperationName == "federation.deliver" && (string?)a.GetTagItem("federation.peer.id") == beta.NodeId
            && (string?)a.GetTagItem("federation.delivery.kind") == "events");
        var apply = spans.Wait(a => a.OperationName == "federation.apply" && a.TraceId == deliver.TraceId);
        Assert.Equal(ActivityStatusCode.Unset, deliver.Status);
        Assert.True(apply.Duration > TimeSpan.Zero);

        // Once delivered, nothing is pending for beta and the outbox is empty.
        await Eventually.TrueAsync(() => alphaMetrics.Observe("federation.delivery.pending", beta.NodeId) == 0, "beta's lag to be zero");
        Assert.Equal(0, alphaMetrics.Observe("federation.outbox.depth"));
        Assert.Equal(0, alphaMetrics.Observe("federation.delivery.oldest_pending_age", beta.NodeId));
    }

    [Fact]
    public async Task APeerThatIsDownShowsAsGrowingLagAndFailuresUntilItReturns()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);
        using var metrics = new MetricRecorder(alpha);

        await alpha.CutAsync(beta);
        await alpha.PublishAsync(beta);
        await alpha.PublishAsync(beta);

        await Eventually.TrueAsync(() => metrics.Sum("federation.delivery.failures", beta.NodeId, "unavailable") >= 1,
            "alpha to count failed deliveries to beta as unavailable");
        Assert.Equal(2, metrics.Observe("federation.delivery.pending", beta.NodeId));
        Assert.Equal(2, metrics.Observe("federation.outbox.depth"));
        await Task.Delay(1100); // the gauges are read at most once a second
        Assert.True(metrics.Observe("federation.delivery.oldest_pending_age", beta.NodeId) >= 1, "the oldest waiting item's age grows");
        Assert.Equal(0, metrics.Sum("federation.delivery.batches", beta.NodeId));

        await alpha.CutAsync(beta, cut: false);
        await Eventually.TrueAsync(() => metrics.Sum("federation.delivery.batches", beta.NodeId) >= 1, "delivery to beta to resume");
        await Eventually.TrueAsync(() => metrics.Observe("federation.delivery.pending", beta.NodeId) == 0, "beta's lag to go back to zero");
        Assert.Equal(0, metrics.Observe("federation.delivery.oldest_pending_age", beta.NodeId));
    }

    [Fact]
    public async Task WhatNodesLogCarriesNoMessageContent()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);
        const string Marker = "Quixotic-Marmalade";

        var content = Samples.CallOut($"{Marker} picket");
        content.DemandSummary = $"Pay {Marker} back";
        content.TalkingPoints = $"Tell them about {Marker}";
        var request = new PublishCallOutRequest { Content = content };
        request.Recipients.Add(beta.NodeId);
        var published = await alpha.Delegate.PublishCallOutAsync(request, alpha.Auth);
        await Eventually.TrueAsync(() => beta.Store.GetObject(published.Id) is not null, "the call-out to reach beta");
        await beta.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = published.Id,
            Response = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = $"We leafleted for {Marker}", Turnout = 3 },
        }, beta.Auth);
        await Eventually.TrueAsync(() => alpha.Store.GetObject(published.Id)!.LastSequence >= 2, "the report to reach alpha");
        // A refusal whose request carried content: logged, but not with the content.
        await beta.CutAsync(alpha);
        await beta.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = published.Id,
            Response = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = $"More about {Marker}", Turnout = 1 },
        }, beta.Auth);
        await Eventually.TrueAsync(() => beta.Logs.Lines.Any(l => l.Contains("Delivery to", StringComparison.Ordinal)), "beta to log the failed delivery");

        var lines = alpha.Logs.Lines.Concat(beta.Logs.Lines).ToList();
        Assert.NotEmpty(lines);
        Assert.DoesNotContain(lines, l => l.Contains(Marker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithAnOtlpEndpointTracesAndMetricsAreExportedThereWithoutMessageContent()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var alpha = await TestNode.StartAsync("alpha",
            "--Node:Telemetry:OtlpEndpoint", collector.Url, "--Node:Telemetry:OtlpProtocol", "http/protobuf",
            "--Node:Telemetry:MetricInterval", "00:00:01");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);
        const string Marker = "Quixotic-Marmalade";
        var request = new PublishCallOutRequest { Content = Samples.CallOut($"{Marker} picket") };
        request.Recipients.Add(beta.NodeId);
        var published = await alpha.Delegate.PublishCallOutAsync(request, alpha.Auth);
        await Eventually.TrueAsync(() => beta.Store.GetObject(published.Id) is not null, "the call-out to reach beta");

        await Eventually.TrueAsync(() => collector.Received("/v1/traces", "federation.deliver"), "alpha to export its delivery span", 30);
        await Eventually.TrueAsync(() => collector.Received("/v1/metrics", "federation.delivery.batches"), "alpha to export its delivery metrics", 30);
        Assert.True(collector.Received("/v1/metrics", "federation.delivery.pending"));
        // Ids, kinds and counts only: no message content leaves in telemetry either.
        Assert.False(collector.Received("/v1/traces", Marker) || collector.Received("/v1/metrics", Marker));
    }

    /// <summary>A stand-in OpenTelemetry collector: takes OTLP over HTTP and keeps what it got, by path.</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly Microsoft.AspNetCore.Builder.WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();

        private OtlpCollector(Microsoft.AspNetCore.Builder.WebApplication app, int port)
        {
            _app = app;
            Url = $"http://127.0.0.1:{port}";
        }

        public string Url { get; }

        public static async Task<OtlpCollector> StartAsync()
        {
            var port = Ports.Free();
            var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var collector = new OtlpCollector(app, port);
            app.MapPost("/v1/{signal}", async (Microsoft.AspNetCore.Http.HttpContext http) =>
            {
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body);
                collector._received.Enqueue((http.Request.Path, body.ToArray()));
                http.Response.ContentType = "application/x-protobuf";
                return Microsoft.AspNetCore.Http.Results.Bytes([], "application/x-protobuf");
            });
            await app.StartAsync();
            return collector;
        }

        /// <summary>True when an export to <paramref name="path"/> carried <paramref name="text"/> (names are UTF-8 in OTLP's protobuf).</summary>
        public bool Received(string path, string text)
        {
            var needle = System.Text.Encoding.UTF8.GetBytes(text);
            return _received.Any(r => r.Path == path && r.Body.AsSpan().IndexOf(needle) >= 0);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>Records finished spans of the node's source and of ASP.NET Core (whose server span carries the remote parent).</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _done = new();

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name is NodeTelemetry.Name or "Microsoft.AspNetCore",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _done.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public Activity Wait(Func<Activity, bool> match)
        {
            var until = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < until)
            {
                if (_done.FirstOrDefault(match) is { } found)
                {
                    return found;
                }
                Thread.Sleep(50);
            }
            throw new Xunit.Sdk.XunitException($"No such span; recorded: {string.Join(", ", _done.Select(a => a.OperationName).Distinct())}");
        }

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>
/// Reads one node's <c>Federation.Node</c> meter: the node's meter comes from its own host's
/// meter factory, so two nodes in one test process do not mix their figures.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Name, double Value, string? Peer, string? Kind)> _counts = new();
    private readonly ConcurrentDictionary<(string Name, string? Peer), double> _observed = new();
    private readonly Lock _observeLock = new();

    public MetricRecorder(TestNode node)
    {
        var scope = node.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == NodeTelemetry.Name && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
        // The node's instruments exist from its start; make sure they were seen.
        _ = node.Services.GetRequiredService<NodeTelemetry>();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? peer = null, kind = null;
        foreach (var t in tags)
        {
            if (t.Key == "peer.id")
            {
                peer = t.Value as string;
            }
            else if (t.Key == "kind")
            {
                kind = t.Value as string;
            }
        }
        if (instrument.IsObservable)
        {
            _observed[(instrument.Name, peer)] = value;
        }
        else
        {
            _counts.Enqueue((instrument.Name, value, peer, kind));
        }
    }

    /// <summary>The total a counter has added, for one peer and kind when given.</summary>
    public double Sum(string name, string? peer = null, string? kind = null) =>
        _counts.Where(c => c.Name == name && (peer is null || c.Peer == peer) && (kind is null || c.Kind == kind)).Sum(c => c.Value);

    /// <summary>Collects the gauges now and returns one (for a peer when given); 0 when it reported nothing for that peer.</summary>
    public double Observe(string name, string? peer = null)
    {
        lock (_observeLock)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            return _observed.TryGetValue((name, peer), out var v) ? v : 0;
        }
    }

    public void Dispose() => _listener.Dispose();
}
