using MassTransit;

namespace Federation.Node.Delivery;

/// <summary>
/// Completes once the bus's receive endpoints are ready. MassTransit accepts a message
/// published before then and silently drops it (seen with the in-memory transport: its
/// consumer never runs). The host's "started" signal is no guard, as the bus may still be
/// starting in the background. So the catch-up asked for on start, or a doorbell rung at
/// start, could be lost and only asked again five minutes (catch-up) or one minute (a
/// doorbell) later. Everything that publishes waits for this first.
/// </summary>
/// <remarks>
/// MassTransit's own signals were weighed and give a different guarantee (8.5):
/// <c>MassTransitHostOptions.WaitUntilStarted</c> makes the host's start await
/// <c>IBusControl.StartAsync</c>, which awaits the endpoints' readiness, so the whole host,
/// gRPC included, would wait for an unreachable broker (and fail to start if the bus's start
/// faults), where a node now serves and its dispatcher reports the broker as away; and the
/// dispatcher and catch-up scheduler are hosted services registered before the bus.
/// <c>IBusControl.WaitForHealthStatus(Healthy, timeout)</c> polls every 100 ms and takes no
/// cancellation token; on a faulted start it waits out its whole timeout rather than ending
/// when the start does, and it would also hold publishers back whenever the broker drops
/// later, where they now meet the bus's own error.
/// See MassTransitBus.StartAsync and BusControlHealthExtensions in MassTransit's source.
/// </remarks>
public sealed class BusReadiness : IBusObserver
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync(CancellationToken ct) => _ready.Task.WaitAsync(ct);

    public Task PostStart(IBus bus, Task<BusReady> busReady)
    {
        // Faulted or not: once the start is over, publishers meet the bus's own errors
        // (and their handling of them) rather than waiting here.
        busReady.ContinueWith(_ => _ready.TrySetResult(), TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StartFaulted(IBus bus, Exception exception)
    {
        _ready.TrySetResult();
        return Task.CompletedTask;
    }

    public void PostCreate(IBus bus) { }
    public void CreateFaulted(Exception exception) { }
    public Task PreStart(IBus bus) => Task.CompletedTask;
    public Task PreStop(IBus bus) => Task.CompletedTask;
    public Task PostStop(IBus bus) => Task.CompletedTask;
    public Task StopFaulted(IBus bus, Exception exception) => Task.CompletedTask;
}
