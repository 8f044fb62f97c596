using MassTransit;
using Microsoft.AspNetCore.Builder;

namespace Federation.Node.Tests;

/// <summary>
/// Holds the bus's start back, so that a node's background services run before its bus
/// is ready, as they may on a busy machine. MassTransit drops a message published then.
/// </summary>
public sealed class SlowBusStart(TimeSpan delay) : IBusObserver
{
    public static void Add(WebApplicationBuilder builder, TimeSpan delay) =>
        builder.Services.AddBusObserver(_ => new SlowBusStart(delay));

    public Task PreStart(IBus bus) => Task.Delay(delay);
    public void PostCreate(IBus bus) { }
    public void CreateFaulted(Exception exception) { }
    public Task PostStart(IBus bus, Task<BusReady> busReady) => Task.CompletedTask;
    public Task StartFaulted(IBus bus, Exception exception) => Task.CompletedTask;
    public Task PreStop(IBus bus) => Task.CompletedTask;
    public Task PostStop(IBus bus) => Task.CompletedTask;
    public Task StopFaulted(IBus bus, Exception exception) => Task.CompletedTask;
}
