using System.Diagnostics;
using System.Net;
using Federation.Contracts.V1;
using Federation.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Node.Tests;

/// <summary>
/// The front the project ships for replicas (compose/haproxy.cfg, adr/0017), run from
/// Debian's HAProxy on loopback: a replica that hangs (SIGSTOP: its kernel still accepts
/// connections) is found by the active check and taken out of rotation, and calls go on.
/// </summary>
public sealed class HAProxyFrontTests
{
    private static readonly TimeSpan Hung = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Detection = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AHungReplicaIsTakenOutOfRotationAndNothingIsLostOrAppliedTwice()
    {
        using var db = new TestPostgresDatabase();
        var front = Ports.Free();
        var frontDashboard = Ports.Free();
        var frontAddress = $"http://127.0.0.1:{front}";
        await using var a1 = await BrokerNode.StartAsync("alpha", s =>
        {
            s["Node__Database"] = "postgres";
            s["Node__Postgres__ConnectionString"] = db.ConnectionString;
            // What peers dial: the front, not a replica.
            s["Node__PublicAddress"] = frontAddress;
        });
        await using var a2 = await NodeProcess.StartReplicaAsync(a1, "alpha-2");
        await using var b = await BrokerNode.StartAsync("beta");
        using var proxy = HAProxy.Start(front, frontDashboard, a1, a2);
        try
        {
            await proxy.UntilBothUpAsync();
            await a1.AddPeerAsync(b);
            await b.Delegate.AddPeerAsync(new AddPeerRequest { Address = frontAddress, Fingerprint = a1.Fingerprint }, b.Auth);
            var id = (await a1.PublishAsync(b)).Id;
            await Eventually.TrueAsync(() => MultiReplicaTests.LastSequence(b, id) >= 1, "the call-out to reach beta", 60);

            // The browser's sign-in redirect keeps the host and port it used (HAProxy passes Host through).
            using (var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }))
            {
                var page = await http.GetAsync($"http://127.0.0.1:{frontDashboard}/");
                Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
                Assert.StartsWith($"http://127.0.0.1:{frontDashboard}/signin", page.Headers.Location!.ToString());
            }

            // A steady stream: beta reports back (submissions to alpha through the front), and
            // alpha's delegate reads the call-out through the front, timing every call.
            using var stop = new CancellationTokenSource();
            var reports = 0;
            var reporting = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await b.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
                    {
                        CallOutId = id,
                        Response = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = $"report {reports}", Turnout = (uint)reports + 1 },
                    }, b.Auth);
                    reports++;
                    await Task.Delay(250);
                }
            });
            var clock = Stopwatch.StartNew();
            var stoppedAt = TimeSpan.MaxValue;
            var calls = new List<(TimeSpan Started, TimeSpan Took, bool Ok)>();
            var reading = Task.Run(async () =>
            {
                using var channel = GrpcChannel.ForAddress(frontAddress);
                var client = new DelegateService.DelegateServiceClient(channel);
                while (!stop.IsCancellationRequested)
                {
                    var started = clock.Elapsed;
                    bool ok;
                    try
                    {
                        await client.GetCallOutAsync(new GetObjectRequest { Id = id }, a1.Auth, DateTime.UtcNow.AddSeconds(5));
                        ok = true;
                    }
                    catch (RpcException)
                    {
                        ok = false;
                    }
                    lock (calls)
                    {
                        calls.Add((started, clock.Elapsed - started, ok));
                    }
                    await Task.Delay(100);
                }
            });

            await Task.Delay(TimeSpan.FromSeconds(5));
            stoppedAt = clock.Elapsed;
            Signal("STOP", a2);
            try
            {
                await Task.Delay(Hung);
            }
            finally
            {
                Signal("CONT", a2);
            }
            await Task.Delay(TimeSpan.FromSeconds(5));
            await stop.CancelAsync();
            await Task.WhenAll(reporting, reading);

            // After at most 10 s of detection, every call completes, with p99 under 2 s.
            List<(TimeSpan Started, TimeSpan Took, bool Ok)> afterDetection;
            lock (calls)
            {
                afterDetection = [.. calls.Where(c => c.Started >= stoppedAt + Detection && c.Started < stoppedAt + Hung)];
            }
            var took = afterDetection.Select(c => c.Took.TotalMilliseconds).Order().ToList();
            var p99 = took[(int)Math.Ceiling(took.Count * 0.99) - 1];
            var during = calls.Count(c => c.Started >= stoppedAt && c.Started < stoppedAt + Detection);
            var failedDuring = calls.Count(c => c.Started >= stoppedAt && c.Started < stoppedAt + Detection && !c.Ok);
            var measured = $"HAProxy front, one replica hung {Hung.TotalSeconds:0} s: {afterDetection.Count} calls after {Detection.TotalSeconds:0} s of detection, "
                + $"p99 {p99:0} ms, max {took[^1]:0} ms, failed {afterDetection.Count(c => !c.Ok)}; in the detection window {failedDuring} of {during} failed; "
                + $"{reports} report-backs submitted through the front";
            Console.WriteLine(measured);
            // tests/run.sh prints these after the run.
            if (Environment.GetEnvironmentVariable("FED_TEST_MEASUREMENTS") is { Length: > 0 } measurements)
            {
                await File.AppendAllTextAsync(measurements, measured + "\n");
            }
            Assert.All(afterDetection, c => Assert.True(c.Ok, "a call after the detection window failed"));
            Assert.True(p99 < 2000, $"p99 {p99:0} ms after detection");
            Assert.True(afterDetection.Count > 100, $"only {afterDetection.Count} calls after detection");

            // Nothing lost, nothing applied twice: every report-back is an event at alpha, its
            // sequence is 1…N with no gap or repeat, and beta holds exactly those events, once each.
            var expected = 1 + reports;
            await Eventually.TrueAsync(() => MultiReplicaTests.OriginSequences(db, id).Count == expected, $"alpha to record all {expected} events", 90);
            await Eventually.TrueAsync(() => MultiReplicaTests.LastSequence(b, id) == expected, $"beta to hold all {expected} events", 90);
            var origin = MultiReplicaTests.OriginSequences(db, id);
            Assert.Equal(Enumerable.Range(1, expected).Select(i => (long)i), origin.Select(e => e.Seq));
            Assert.Equal(expected, origin.Select(e => e.EventId).Distinct().Count());
            Assert.Equal(origin, MultiReplicaTests.PeerEvents(b, id));
            Assert.Equal(expected, MultiReplicaTests.PeerFeedRows(b, id));
            Assert.Equal(reports, MultiReplicaTests.Scalar(db, "SELECT COUNT(*) FROM submissions"));
            Assert.Equal(0, MultiReplicaTests.Scalar(db, "SELECT COUNT(*) FROM dead_letters"));
        }
        catch
        {
            Console.WriteLine(string.Join("\n", new[] { a1, a2, b }.Select(n => n.LogTail(40))) + "\nHAProxy:\n" + proxy.Log);
            throw;
        }
    }

    private static void Signal(string signal, NodeProcess node)
    {
        using var kill = Process.Start("kill", [$"-{signal}", node.ProcessId!.Value.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Debian's haproxy running the shipped compose/haproxy.cfg in front of two replicas.</summary>
    private sealed class HAProxy : IDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _log = new();

        private HAProxy(Process process) => _process = process;

        public string Log
        {
            get
            {
                lock (_log)
                {
                    return _log.ToString();
                }
            }
        }

        public static HAProxy Start(int front, int frontDashboard, NodeProcess r1, NodeProcess r2)
        {
            var config = Path.Combine(Built.Root, "compose", "haproxy.cfg");
            var psi = new ProcessStartInfo(File.Exists("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.ArgumentList.Add("-db"); // in the foreground, so the test owns the process
            psi.ArgumentList.Add("-f");
            psi.ArgumentList.Add(config);
            psi.Environment["FRONT_GRPC"] = $"127.0.0.1:{front}";
            psi.Environment["FRONT_DASHBOARD"] = $"127.0.0.1:{frontDashboard}";
            psi.Environment["REPLICA_1_GRPC"] = $"127.0.0.1:{r1.Port}";
            psi.Environment["REPLICA_2_GRPC"] = $"127.0.0.1:{r2.Port}";
            psi.Environment["REPLICA_1_DASHBOARD"] = $"127.0.0.1:{r1.Port + 3000}";
            psi.Environment["REPLICA_2_DASHBOARD"] = $"127.0.0.1:{r2.Port + 3000}";
            Process process;
            try
            {
                process = Process.Start(psi)!;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                throw new InvalidOperationException("haproxy is missing: tests/run.sh installs Debian's haproxy (apt-get install haproxy).");
            }
            var proxy = new HAProxy(process);
            process.OutputDataReceived += (_, e) => proxy.Append(e.Data);
            process.ErrorDataReceived += (_, e) => proxy.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return proxy;
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_log)
                {
                    _log.AppendLine(line);
                }
            }
        }

        /// <summary>Both replicas pass their checks (HAProxy starts them as up and checks at once; a first check may time out while a replica warms up).</summary>
        public async Task UntilBothUpAsync()
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            await Eventually.TrueAsync(() =>
            {
                var log = Log;
                return !_process.HasExited && Count(log, "grpc/replica-1 is DOWN") == Count(log, "grpc/replica-1 is UP")
                    && Count(log, "grpc/replica-2 is DOWN") == Count(log, "grpc/replica-2 is UP");
            }, "both replicas to be up behind HAProxy", 30);
        }

        private static int Count(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
