using Microsoft.Extensions.Options;

namespace Federation.Core;

/// <summary>
/// The time this node signs and checks: call timestamps, event dates, submission dates.
/// <c>Node:ClockOffset</c> shifts it, so the fault tests can run a node whose clock is
/// wrong (as a machine without NTP drifts) and see it refused with a clear error and
/// recover once the offset is removed. Local bookkeeping (retry timing, leases) keeps
/// the machine's clock (<see cref="TimeProvider"/>): it never crosses the wire.
/// </summary>
public sealed class NodeClock(IOptions<NodeOptions> options, TimeProvider? machine = null) : TimeProvider
{
    private readonly TimeProvider _machine = machine ?? System;

    public override DateTimeOffset GetUtcNow() => _machine.GetUtcNow() + options.Value.ClockOffset;

    public DateTimeOffset UtcNow => GetUtcNow();
}
