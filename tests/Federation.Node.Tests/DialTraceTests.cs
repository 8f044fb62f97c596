using System.Globalization;
using System.Text.RegularExpressions;
using Federation.Testing;
using Xunit.Abstractions;

namespace Federation.Node.Tests;

/// <summary>
/// A node dials only what its operator configured (issue 22 item 1), checked from outside
/// the process: every connect and every addressed send of a node on its defaults, and of
/// one on RabbitMQ and PostgreSQL, is traced with strace while they peer and run. The
/// short run (FED_DIAL_TRACE_SECONDS, 20 by default) sees start-up and peering; the long
/// fault profile runs it for 330 s, past MassTransit's five-minute usage report timer.
/// </summary>
public sealed partial class DialTraceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunFor = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("FED_DIAL_TRACE_SECONDS"), out var s) ? s : 20);

    [Fact]
    public async Task NodesOnTheirDefaultsAndOnRabbitMqAndPostgresDialOnlyTheirPeersBrokerAndDatabase()
    {
        using var db = new TestPostgresDatabase();
        var traces = Directory.CreateTempSubdirectory("fed-dials-").FullName;
        try
        {
            var postgresPort = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString).Port;
            await using var plain = Traced(new Dictionary<string, string>(), "alpha", traces);
            var scaled = BrokerNode.Fast(await Broker.NewVirtualHostAsync("beta"));
            scaled["Node__Database"] = "postgres";
            scaled["Node__Postgres__ConnectionString"] = db.ConnectionString;
            await using var broker = Traced(scaled, "beta", traces);
            await plain.StartAgainAsync();
            await broker.StartAgainAsync();
            await NodeProcess.PeerAsync(plain, broker);
            await plain.PublishAsync(broker);

            await Task.Delay(RunFor);
            plain.Kill();
            broker.Kill();

            var allowed = new Dictionary<string, HashSet<int>>
            {
                ["alpha"] = [plain.Port, broker.Port],
                ["beta"] = [broker.Port, plain.Port, Broker.Port, postgresPort],
            };
            foreach (var (name, ports) in allowed)
            {
                var dials = Dials(File.ReadAllLines(Path.Combine(traces, name))).ToList();
                output.WriteLine($"{name}: {dials.Count} dials, to {string.Join(", ", dials.Select(d => $"{d.Address}:{d.Port}").Distinct())}");
                // The node dialled its configured parts at all (the trace works) ...
                Assert.Contains(dials, d => d.Port == (name == "alpha" ? broker.Port : postgresPort));
                // ... and nothing else: no DNS, no vendor, no other local port.
                var unbidden = dials.Where(d => !IsLoopback(d.Address) || !ports.Contains(d.Port)).ToList();
                Assert.True(unbidden.Count == 0, $"{name} dialled what it was not given: "
                    + string.Join("; ", unbidden.Select(d => $"{d.Address} port {d.Port}")) + "\n" + string.Join("\n", unbidden.Select(d => d.Line)));
            }
        }
        finally
        {
            Directory.Delete(traces, recursive: true);
        }
    }

    private static NodeProcess Traced(Dictionary<string, string> settings, string name, string traces) => new(name, settings)
    {
        // connect(), and sendto()/sendmsg() with an address: a TCP connection, and a UDP
        // datagram whether or not its socket is connected first (as a DNS resolver's is).
        // The seccomp filter keeps the node's speed.
        RunUnder = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect,sendto,sendmsg", "-o", Path.Combine(traces, name)],
        StartTimeout = TimeSpan.FromSeconds(120),
    };

    private sealed record Dial(string Address, int Port, string Line);

    // strace prints IPv4 as sin_port=htons(5432), sin_addr=inet_addr("127.0.0.1"), IPv6 as
    // sin6_port=htons(…), … inet_pton(AF_INET6, "::1", …). Unix and netlink sockets stay on the machine.
    private static IEnumerable<Dial> Dials(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            var m = InetDial().Match(line);
            if (m.Success)
            {
                yield return new Dial(m.Groups["addr"].Value, int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture), line);
            }
        }
    }

    private static bool IsLoopback(string address) => address is "127.0.0.1" or "::1" or "::ffff:127.0.0.1";

    [GeneratedRegex("""sin6?_port=htons\((?<port>\d+)\).*?(?:inet_addr\("|inet_pton\(AF_INET6, ")(?<addr>[^"]+)""")]
    private static partial Regex InetDial();
}
