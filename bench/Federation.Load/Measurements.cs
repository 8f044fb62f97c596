using System.Diagnostics;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Commands;
using Federation.Node.Delivery;
using Grpc.Core;

namespace Federation.Load;

public static class Measurements
{
    public static CallOutContent Content(string title) => new()
    {
        Title = title,
        Target = new Target { Name = "Bistro Co", ParentCompany = "Bistro Holdings" },
        DemandSummary = "Pay the £2,400 in stolen wages",
        Places = { new Place { City = "Leeds", Address = "1 High St" } },
        ActionTypes = { ActionType.Picket },
    };

    /// <summary>
    /// Signed, durable submissions accepted by one origin: pledges from a few peers to many
    /// call-outs, through PeerService.Submit over gRPC, as a peer's delivery sends them.
    /// Each is authenticated, verified, sequenced, signed, stored with synchronous=FULL and
    /// queued for its call-out's recipients, which the origin then delivers to in the background.
    /// </summary>
    /// <returns>The submissions per second through Submit and through SubmitStream.</returns>
    /// <param name="rows">Where the rates go, with their ratios to the baseline; null when the caller reads them against another run's.</param>
    /// <param name="configure">The origin's settings: sealing at rest, PostgreSQL; the embedded default when null.</param>
    public static async Task<(double Unary, double Stream)> RunSubmissionsAsync(Profile p, double unaryBaseline, List<Row>? rows, Action<NodeOptions>? configure = null)
    {
        const int submitters = 4;
        await using var swarm = await Swarm.StartAsync(submitters);
        await using var origin = await LoadNode.StartAsync("origin", configure);
        swarm.Trust(origin.Identity);
        foreach (var m in swarm.Members)
        {
            await origin.AddPeerAsync(m.Address, m.Fingerprint);
        }
        // Many call-outs, each with one submitter as its recipient: a busy origin's mix.
        var callOuts = await Task.WhenAll(Enumerable.Range(0, p.SubmitCallOuts).Select(i =>
            origin.Get<CallOutCommands>().PublishAsync(Content($"Call-out {i}"), [swarm.Members[i % submitters].NodeId], null, CancellationToken.None)));

        Report.Progress($"Submissions: signing {Report.F(p.SubmissionPool)} pledges up front (the submitters' cost, not the origin's)…");
        var pool = new SubmitRequest[p.SubmissionPool];
        Parallel.For(0, pool.Length, i => pool[i] = Swarm.Pledge(swarm.Members[i % p.SubmitCallOuts % submitters], callOuts[i % p.SubmitCallOuts].Id));
        var eventsBefore = origin.Get<IFederationStore>().Count("events");

        var channels = Drive.Channels(origin.Address, p.Callers);
        var clients = channels.Select(c => new PeerService.PeerServiceClient(c)).ToArray();
        // Call metadata is signed per call (it binds the body and a call id the origin takes
        // once): signing it is the caller's cost; the origin verifies every call's signature.
        var next = -1;
        long duplicates = 0;
        Report.Progress($"Submissions: {p.Callers} concurrent callers for up to {p.Window.TotalSeconds}s…");
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var run = await Drive.RunAsync(p.Callers, p, async i =>
        {
            var n = Interlocked.Increment(ref next);
            if (n >= pool.Length)
            {
                return false;
            }
            var member = n % p.SubmitCallOuts % submitters;
            var reply = await clients[i % clients.Length].SubmitAsync(pool[n], new CallOptions(Swarm.Headers(swarm.Members[member], Methods.Submit, origin.Identity.NodeId, pool[n]), DateTime.UtcNow.AddSeconds(30)));
            if (reply.Duplicate)
            {
                Interlocked.Increment(ref duplicates);
            }
            return n + 1 < pool.Length;
        });
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var accepted = Math.Min(next + 1, pool.Length) - run.Errors;
        var stored = origin.Get<IFederationStore>().Count("events") - eventsBefore;
        foreach (var c in channels)
        {
            c.Dispose();
        }
        if (run.Errors > 0 || duplicates > 0 || stored < accepted)
        {
            throw new InvalidOperationException($"Submissions: {run.Errors} calls failed, {duplicates} duplicates, {stored} events stored for {accepted} accepted.");
        }
        if (p.Smoke && run.Count == 0)
        {
            throw new InvalidOperationException("Submissions: none completed in the window.");
        }
        var unaryRate = run.Count / run.Seconds;
        if (rows is not null)
        {
            Report.Submissions(rows, "Submit", $"{p.Callers} callers", unaryRate, unaryBaseline, stored, target: 0.20);
        }

        // The same origin and the rest of the pool, now as peers deliver queued submissions:
        // one SubmitStream call per submitter, many submissions in flight on each.
        var firstUnused = Math.Min(next + 1, pool.Length);
        eventsBefore = origin.Get<IFederationStore>().Count("events");
        Report.Progress($"Submissions: {submitters} SubmitStream calls, up to {StreamWindow} in flight on each, for up to {p.Window.TotalSeconds}s…");
        var streamed = await StreamAsync(origin, swarm, pool, firstUnused, submitters, p);
        stored = origin.Get<IFederationStore>().Count("events") - eventsBefore;
        if (streamed.Refused > 0 || stored < streamed.Answered)
        {
            throw new InvalidOperationException($"SubmitStream: {streamed.Refused} submissions refused, {stored} events stored for {streamed.Answered} answered.");
        }
        if (streamed.Answered == 0)
        {
            throw new InvalidOperationException("SubmitStream: no submission was answered.");
        }
        var streamRate = streamed.Count / streamed.Seconds;
        if (rows is not null)
        {
            Report.Submissions(rows, "SubmitStream", $"{submitters} streams", streamRate, unaryBaseline, stored, target: 0.40);
        }
        return (unaryRate, streamRate);
    }

    /// <summary>How many submissions each stream keeps in flight: about what a peer's delivery batch holds.</summary>
    public const int StreamWindow = 200;

    /// <summary>
    /// One SubmitStream call per submitter, each sending its own signed submissions from
    /// <paramref name="pool"/> (from <paramref name="from"/> on) with up to
    /// <see cref="StreamWindow"/> unanswered; counts the answers inside the measured window.
    /// </summary>
    private static async Task<(long Count, double Seconds, long Answered, long Refused)> StreamAsync(
        InProcNode origin, Swarm swarm, SubmitRequest[] pool, int from, int submitters, Profile p)
    {
        using var channel = Drive.Channels(origin.Address, 1)[0];
        var client = new PeerService.PeerServiceClient(channel);
        var measured = new MeasuredWindow(p);
        long count = 0, answered = 0, refused = 0, lastDone = 0;
        await Task.WhenAll(Enumerable.Range(0, submitters).Select(async m =>
        {
            using var call = client.SubmitStream(new CallOptions(Swarm.Headers(swarm.Members[m], Methods.SubmitStream, origin.Identity.NodeId),
                DateTime.UtcNow + p.WarmupMax + p.Window + TimeSpan.FromSeconds(60)));
            using var window = new SemaphoreSlim(StreamWindow);
            var sending = Task.Run(async () =>
            {
                // The pool's submissions are signed by member n % submitters, from its start.
                for (var n = from + ((m - from % submitters) + submitters) % submitters; n < pool.Length && !measured.Closed; n += submitters)
                {
                    await window.WaitAsync();
                    await call.RequestStream.WriteAsync(pool[n]);
                }
                await call.RequestStream.CompleteAsync();
            });
            await foreach (var answer in call.ResponseStream.ReadAllAsync())
            {
                window.Release();
                Interlocked.Increment(ref answered);
                if (answer.ResultCase != SubmitStreamResponse.ResultOneofCase.Accepted || answer.Accepted.Duplicate)
                {
                    Interlocked.Increment(ref refused);
                }
                var now = measured.Now;
                if (measured.Holds(now))
                {
                    Interlocked.Increment(ref count);
                    Drive.InterlockedMax(ref lastDone, now);
                }
            }
            await sending;
        }));
        measured.Report();
        return (count, measured.Seconds(lastDone), answered, refused);
    }

    /// <summary>One fan-out size's figures: time until every peer acknowledged, and CPU per delivered event.</summary>
    /// <param name="OtherCpuPerEventUs">Of <paramref name="CpuPerEventUs"/>, what processes besides this one spent (the broker).</param>
    public sealed record FanOutPoint(int Peers, int Runs, double P50Ms, double P99Ms, double CpuPerEventUs, double OtherCpuPerEventUs = 0)
    {
        /// <summary>Events delivered (and acknowledged) per second, at the median run.</summary>
        public double DeliveredPerSecond => Peers / (P50Ms / 1000.0);
    }

    /// <summary>
    /// One call-out delivered to 10, 100 and 1,000 peers (a swarm of peer endpoints that
    /// verify every signature and acknowledge): time from publishing until every peer has
    /// acknowledged, over repeated runs, and the process's CPU time per delivered event.
    /// </summary>
    /// <param name="rows">Where the figures and their ratios go; null when the caller reads them against another run's.</param>
    /// <param name="sizes">Peers per fan-out and runs at each; the profile's when null.</param>
    /// <param name="configure">The origin's settings (RabbitMQ); the embedded default when null.</param>
    /// <param name="otherCpu">CPU time so far of processes besides this one that do the work (the broker), added to the process's own.</param>
    public static async Task<List<FanOutPoint>> RunFanOutAsync(Profile p, double unaryBaseline, List<Row>? rows,
        (int Peers, int Runs)[]? sizes = null, Action<NodeOptions>? configure = null, Func<TimeSpan>? otherCpu = null)
    {
        sizes ??= p.FanOutSizes.Zip(p.FanOutRuns).ToArray();
        var points = new List<FanOutPoint>();
        var largest = sizes.Max(s => s.Peers);
        Report.Progress($"Fan-out: starting a swarm of {largest} peers and adding each to the origin…");
        await using var swarm = await SwarmProcess.StartAsync(largest);
        TimeSpan Other() => otherCpu?.Invoke() ?? TimeSpan.Zero;
        TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime + swarm.Cpu + Other();
        await using var origin = await LoadNode.StartAsync("fanout", configure);
        await swarm.TrustAsync(origin.Identity);
        // Added as an operator adds them (Identify, pin, Hello), several at a time.
        var added = 0;
        await Parallel.ForEachAsync(swarm.Members, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (m, _) =>
        {
            await origin.AddPeerAsync(m.Address, m.Fingerprint);
            // Adding 10,000 takes a minute or more: say how far it is.
            if (Interlocked.Increment(ref added) is var n && n % 1000 == 0 && n < largest)
            {
                Report.Progress($"  {n:N0} of {largest:N0} peers added");
            }
        });
        var commands = origin.Get<CallOutCommands>();

        foreach (var (size, runs) in sizes)
        {
            var recipients = swarm.Members.Take(size).Select(m => m.NodeId).ToArray();
            Report.Progress($"Fan-out to {size} peers: {runs} runs (plus one warm-up)…");
            var times = new List<double>();
            var cpu = TimeSpan.Zero;
            var other = TimeSpan.Zero;
            for (var r = -1; r < runs; r++)
            {
                var cpuBefore = Cpu();
                var otherBefore = Other();
                var clock = Stopwatch.StartNew();
                var callOut = await commands.PublishAsync(Content($"Fan-out {size} #{r}"), recipients, null, CancellationToken.None);
                var all = swarm.WhenAcknowledged(callOut.Id, size);
                if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60))) != all)
                {
                    throw new TimeoutException($"Fan-out to {size}: not every peer acknowledged within 60 s.");
                }
                clock.Stop();
                if (r >= 0)
                {
                    times.Add(clock.Elapsed.TotalMilliseconds);
                    cpu += Cpu() - cpuBefore;
                    other += Other() - otherBefore;
                }
                // Let the origin finish its bookkeeping for this run (cursors, leases).
                await Task.Delay(p.Smoke ? 50 : 200);
            }
            times.Sort();
            var point = new FanOutPoint(size, runs, Report.Quantile(times, 0.5), Report.Quantile(times, 0.99),
                cpu.TotalMicroseconds / (size * (double)runs), other.TotalMicroseconds / (size * (double)runs));
            points.Add(point);
            Report.Progress($"  p50 {Report.F(point.P50Ms, "F0")} ms, p99 {Report.F(point.P99Ms, "F0")} ms, {Report.F(point.CpuPerEventUs, "F0")} µs CPU per delivered event, {Report.F(point.DeliveredPerSecond)} delivered events/s");
            if (rows is null)
            {
                continue;
            }
            rows.Add(new Row($"Fan-out to {size:N0} peers: all acknowledged, p50 / p99 ({runs} runs)", $"{Report.F(point.P50Ms, "F0")} ms / {Report.F(point.P99Ms, "F0")} ms"));
            rows.Add(new Row($"Fan-out to {size:N0} peers: CPU per delivered event (origin + swarm)", $"{Report.F(point.CpuPerEventUs, "F0")} µs"));
            if (size >= 1000)
            {
                // Issue 20 #3: events delivered (and acknowledged) per second, at the median run,
                // against the rate at which the same machine answers trivial gRPC calls.
                rows.Add(Report.Ratio($"Fan-out to {size:N0} peers: delivered events/s as a share of the unary baseline", point.DeliveredPerSecond / unaryBaseline, 0.30));
            }
        }
        if (rows is not null && points.Find(x => x.Peers == 100) is { } at100 && largest > 100)
        {
            // Flat cost per peer: the largest fan-out's CPU per delivered event against 100 peers'.
            rows.Add(Report.RatioAtMost($"Fan-out: CPU per delivered event at {largest:N0} peers against 100 peers", points.MaxBy(x => x.Peers)!.CpuPerEventUs / at100.CpuPerEventUs, 1.2));
        }
        return points;
    }

    /// <summary>
    /// A real replica misses events while it is stopped; time from its start until it
    /// holds every one of them (it pulls with ListShared/FetchEvents, and the origin's
    /// delivery resumes too: whichever is first).
    /// </summary>
    /// <returns>Seconds from the replica's start until it holds every event.</returns>
    /// <param name="progress">When given, (seconds since the replica's start, events it holds) at each look: the plot's line.</param>
    public static async Task<double> RunCatchUpAsync(Profile p, List<Row> rows, bool sealing = false, List<(double Seconds, long Held)>? progress = null)
    {
        await using var origin = await LoadNode.StartAsync("catchup-origin", LoadNode.Sealing(sealing));
        await using var replica = await LoadNode.StartAsync("catchup-replica", LoadNode.Sealing(sealing));
        await origin.AddPeerAsync(replica.Address, replica.Identity.Fingerprint);
        await replica.AddPeerAsync(origin.Address, origin.Identity.Fingerprint);
        var replicaId = replica.Identity.NodeId;
        await replica.StopAsync();

        var objects = p.CatchUpObjects;
        var perObject = p.CatchUpEvents / objects;
        Report.Progress($"Catch-up: the replica is stopped; the origin writes {objects} call-outs × {perObject} events…");
        var commands = origin.Get<CallOutCommands>();
        await Task.WhenAll(Enumerable.Range(0, objects).Select(async i =>
        {
            var c = await commands.PublishAsync(Content($"Catch-up {i}"), [replicaId], null, CancellationToken.None);
            for (var e = 1; e < perObject; e++)
            {
                await commands.UpdateAsync(c.Id, Content($"Catch-up {i}, update {e}"), CancellationToken.None);
            }
        }));
        var total = objects * perObject;
        if (!p.Smoke)
        {
            await CircuitJustOpenedAsync(origin, replicaId);
        }

        Report.Progress($"Catch-up: starting the replica, which missed {Report.F(total)} events…");
        var clock = Stopwatch.StartNew();
        progress?.Add((0, 0));
        await replica.StartAgainAsync();
        var store = replica.Get<IFederationStore>();
        var limit = TimeSpan.FromSeconds(Math.Max(120, total / 500));
        var shown = 0L;
        while (Held(store) is var held && held < total)
        {
            progress?.Add((clock.Elapsed.TotalSeconds, held));
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Catch-up: the replica holds {held} of {total} events after {limit.TotalSeconds:0} s.");
            }
            if (held - shown >= 20_000)
            {
                Report.Progress($"  {Report.F(held)} of {Report.F(total)} events after {Report.F(clock.Elapsed.TotalSeconds, "F1")} s");
                shown = held;
            }
            await Task.Delay(total > 10_000 ? 50 : 5);
        }
        clock.Stop();
        var seconds = clock.Elapsed.TotalSeconds;
        progress?.Add((seconds, total));
        Report.Progress($"  caught up in {Report.F(seconds, "F2")} s ({Report.F(total / seconds)} events/s)");
        if (!sealing)
        {
            rows.Add(new Row($"Catch-up: a replica that missed {total:N0} events, start to caught up", $"{Report.F(seconds, "F2")} s"));
            var bound = VerifyBound(origin, replica);
            Report.Progress($"  the same signatures verified on all {Environment.ProcessorCount} cores: {Report.F(bound)} events/s");
            rows.Add(new Row($"Catch-up bound: the same {total:N0} events' signatures verified on all {Environment.ProcessorCount} cores", $"{Report.F(bound)} events/s"));
            rows.Add(Report.Ratio("Catch-up: events applied per second as a share of that bound", total / seconds / bound, 0.60));
        }
        return seconds;
    }

    /// <summary>
    /// Waits until the origin's circuit to the stopped replica has just opened. Its deliveries
    /// to the replica fail while it is down, and the circuit opens for 30 s at a time: started
    /// then, the replica pulls what it missed with no pushes from the origin's outbox racing
    /// the pull, the same way every run. Before, the replica started wherever in those 30 s
    /// the origin's writes happened to end, with or without pushes racing it. (Started this
    /// way, catch-ups still spread from 7.1 to 10.7 s on 2026-12-07, at an even rate from
    /// first event to last in each: the machine's spread, which this does not remove.)
    /// </summary>
    private static async Task CircuitJustOpenedAsync(InProcNode origin, string replicaId)
    {
        var calls = origin.Get<PeerCalls>();
        var limit = Stopwatch.StartNew();
        var wasOpen = calls.IsOpen(replicaId);
        Report.Progress("Catch-up: waiting for the origin's circuit to the replica to open (its pushes pause for 30 s)…");
        while (limit.Elapsed < TimeSpan.FromSeconds(90))
        {
            var open = calls.IsOpen(replicaId);
            if (open && !wasOpen)
            {
                return;
            }
            wasOpen = open;
            await Task.Delay(20);
        }
        throw new TimeoutException("Catch-up: the origin's circuit to the stopped replica did not open within 90 s.");
    }

    /// <summary>
    /// The events a replica holds, from its call-outs' positions (a hundred rows): counting
    /// the events table scans it, and a scan every 50 ms of a table growing to 100,000 rows
    /// competed with the very writes being timed, more the further catch-up got.
    /// </summary>
    private static long Held(IFederationStore store) => store.ListObjects(ObjectKind.CallOut).Sum(o => (long)o.LastSequence);

    /// <summary>
    /// Issue 20 #2's yardstick: how fast this machine verifies the very envelopes the replica
    /// took, with every core, as the replica verifies them (Envelopes.Verify against its
    /// pinned keys). Verification is the work catch-up cannot skip.
    /// </summary>
    private static double VerifyBound(InProcNode origin, InProcNode replica)
    {
        var store = origin.Get<IFederationStore>();
        var envelopes = store.ListObjects(ObjectKind.CallOut)
            .SelectMany(o => store.LoadEvents(o.ObjectId, 0, int.MaxValue))
            .Select(e => Federation.Core.Log.Envelopes.Build(e, origin.Get<Federation.Core.Identity.NodeIdentity>().Algorithm))
            .ToArray();
        var keys = replica.Get<Federation.Core.Identity.PeerKeys>();
        var now = DateTimeOffset.UtcNow;
        // Once unmeasured, so the measured pass finds the keys' caches warm as a long catch-up does.
        Parallel.ForEach(envelopes.Take(1000), e => Federation.Core.Log.Envelopes.Verify(e, keys, now));
        var clock = Stopwatch.StartNew();
        Parallel.ForEach(envelopes, e => Federation.Core.Log.Envelopes.Verify(e, keys, now));
        return envelopes.Length / clock.Elapsed.TotalSeconds;
    }
}
