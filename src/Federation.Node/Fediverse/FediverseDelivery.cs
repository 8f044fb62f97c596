using System.Net;
using System.Net.Http.Headers;
using Federation.Core;
using Federation.Core.Fediverse;
using Federation.Core.Storage;
using Federation.Node.Delivery;

namespace Federation.Node.Fediverse;

/// <summary>
/// Sends the actor's queued activities (issue 19): the next one of each host at a time, so
/// a host gets a call-out's Create before its Update; each POST signed when it leaves;
/// retried with backoff and jitter, the timing kept in the database; refused for good or
/// failing too long, parked as a dead letter (kept in fediverse_outbox, and logged).
/// </summary>
public sealed class FediverseDeliveryWorker(IFederationStore store, FediverseSite site, FediverseKey key, RemoteActors remote,
    NodeClock clock, ILogger<FediverseDeliveryWorker> log) : BackgroundService
{
    private static readonly TimeSpan BaseDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromHours(6);

    /// <summary>How often due work is looked for.</summary>
    public static TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!site.Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning("Fediverse delivery pass failed: {Error}", ex.Message);
            }
            try
            {
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass: each due host's next activity, hosts in parallel. Returns how many were attempted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = clock.UtcNow;
        var due = store.DueFediverseDeliveries(now, 32);
        var leased = new List<FediverseDelivery>();
        foreach (var d in due)
        {
            if (await store.WriteAsync(tx => tx.LeaseFediverseDelivery(d.Id, now + site.Options.RemoteTimeout * 3), ct))
            {
                leased.Add(d);
            }
        }
        await Task.WhenAll(leased.Select(d => DeliverAsync(d, ct)));
        return leased.Count;
    }

    private async Task DeliverAsync(FediverseDelivery d, CancellationToken ct)
    {
        string? error;
        var permanent = false;
        try
        {
            remote.RequireDialable(d.Inbox);
            var target = new Uri(d.Inbox);
            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(d.Body) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(FediverseDocuments.ContentType);
            foreach (var (name, value) in HttpSignatures.SignPost(target, d.Body, site.KeyId, key.Rsa, clock.UtcNow))
            {
                if (name != "Host")
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }
            using var response = await remote.Http.SendAsync(request, ct);
            if (response.IsSuccessStatusCode)
            {
                await store.WriteAsync(tx => { tx.FediverseDelivered(d.Id); return 0; }, ct);
                return;
            }
            var code = (int)response.StatusCode;
            error = $"{d.Inbox} answered {code} {response.ReasonPhrase}";
            // A 4xx other than these will not change by asking again (Mastodon answers 401
            // while it cannot fetch our key, which a retry may fix).
            permanent = code is >= 400 and < 500 and not (401 or 408 or 429);
        }
        catch (RemoteFetchException ex)
        {
            error = ex.Message;
            permanent = true;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            error = $"{d.Inbox}: {ex.Message}";
        }
        var dead = permanent || d.Attempts + 1 >= site.Options.MaxDeliveryAttempts;
        var next = clock.UtcNow + Backoff.Delay(d.Attempts, BaseDelay, MaxDelay);
        log.LogInformation("Fediverse delivery {Id} to {Host} failed ({Outcome}): {Error}", d.Id, d.Host, dead ? "parked" : "will retry", error);
        await store.WriteAsync(tx => { tx.FediverseFailed(d.Id, next, error, dead); return 0; }, CancellationToken.None);
    }
}
