using Federation.Core.Delivery;


namespace Federation.Node.Tests;

/// <summary>
/// One delivery run per peer per process, and no doorbell lost to that rule: a ring turned
/// away while a run is under way makes that run go round once more.
/// </summary>
public sealed class OutboxSignalTests
{
    [Fact]
    public void ARingTurnedAwayDuringARunMakesThatRunGoRoundOnceMore()
    {
        var signal = new OutboxSignal();
        Assert.True(signal.TryBeginRun("peer-a"));
        Assert.False(signal.TryBeginRun("peer-a"));
        Assert.True(signal.TryBeginRun("peer-b")); // other peers are not held up

        Assert.False(signal.TryEndRun("peer-a")); // a ring came meanwhile: go round again
        Assert.False(signal.TryBeginRun("peer-a")); // still running
        Assert.False(signal.TryEndRun("peer-a"));
        Assert.True(signal.TryEndRun("peer-a"));
        Assert.True(signal.TryBeginRun("peer-a")); // ended: the next ring starts a run

        Assert.True(signal.TryEndRun("peer-b"));
    }

    [Fact]
    public void EndingARunWhateverCameMeanwhileFreesThePeer()
    {
        var signal = new OutboxSignal();
        Assert.True(signal.TryBeginRun("peer-a"));
        Assert.False(signal.TryBeginRun("peer-a"));
        signal.EndRun("peer-a"); // a failed run, or the node stopping
        Assert.True(signal.TryBeginRun("peer-a"));
        Assert.True(signal.TryEndRun("peer-a"));
    }
}
