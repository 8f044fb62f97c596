namespace Federation.Node.Notifications;

/// <summary>
/// Wakes every open subscription when the notifier has seen new call-out events.
/// Missing a wake-up loses nothing: subscriptions also poll the feed.
/// </summary>
public sealed class FeedSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Poke() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await Volatile.Read(ref _next).Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            // Time to poll anyway.
        }
    }
}
