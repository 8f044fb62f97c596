using System.Text.RegularExpressions;
using Federation.Testing;

namespace Federation.Node.Tests;

/// <summary>
/// compose/docker-compose.yml is one a stranger can run safely: compose accepts it
/// (Debian's docker-compose `config`; no Docker engine runs here), no secret is written in
/// it, nothing is published beyond this machine, each network has its own cookie, health
/// checks ask the node's gRPC health, and a single broker gets no quorum queues.
/// </summary>
public sealed partial class ComposeFileTests
{
    private static string Compose => Path.Combine(Built.Root, "compose", "docker-compose.yml");
    private static string EnvExample => Path.Combine(Built.Root, "compose", ".env.example");

    [Fact]
    public async Task ComposeAcceptsTheFileWithTheExampleEnvironmentAndRefusesItWithoutOne()
    {
        var (exit, output) = await RunAsync("docker-compose", "-f", Compose, "--env-file", EnvExample, "config");
        Assert.True(exit == 0, output);
        Assert.Contains("127.0.0.1:5001:5000", output);
        Assert.Contains("Password=change-me-leeds-db", output);

        // Without the secrets, compose refuses to start rather than run with empty passwords.
        var empty = Path.Combine(Directory.CreateTempSubdirectory("fed-compose-").FullName, ".env");
        await File.WriteAllTextAsync(empty, "");
        var (refused, said) = await RunAsync("docker-compose", "-f", Compose, "--env-file", empty, "config");
        Assert.NotEqual(0, refused);
        Assert.Contains("set LEEDS_DB_PASSWORD in compose/.env", said);
    }

    [Fact]
    public async Task NoSecretIsInTheFileAndNothingIsPublishedBeyondThisMachine()
    {
        var text = await File.ReadAllTextAsync(Compose);

        // Every password the file sets (a YAML key, or in a connection string) comes from the environment.
        var settings = string.Join('\n', text.Split('\n').Where(l => !l.TrimStart().StartsWith('#')));
        var passwords = PasswordValue().Matches(settings).Select(m => m.Groups["value"].Value).ToList();
        Assert.Equal(12, passwords.Count); // per network: the database's, the broker's, and the node's for each
        Assert.All(passwords, v => Assert.StartsWith("${", v));
        var ports = PublishedPort().Matches(text).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(6, ports.Count); // gRPC and dashboard, for each of three networks
        Assert.All(ports, p => Assert.StartsWith("127.0.0.1:", p));
    }

    [Fact]
    public async Task EachNetworkHasItsOwnCookieHealthChecksAskTheNodeAndOneBrokerHasNoQuorumQueues()
    {
        var text = await File.ReadAllTextAsync(Compose);

        var cookies = Cookie().Matches(text).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["solnet-leeds", "solnet-bristol", "solnet-glasgow"], cookies);
        Assert.Contains("""test: ["CMD", "dotnet", "/app/federation-node.dll", "health", "--port", "5000", "--service", "readiness"]""", text);
        Assert.DoesNotContain("operator.token\"]", text); // the old check: alive, not ready
        Assert.Equal(3, Regex.Matches(text, "Node__RabbitMq__QuorumQueues: \"false\"").Count);
        Assert.DoesNotContain("QuorumQueues: \"true\"", text);
        // The front is the HAProxy file HAProxyFrontTests proves, for each network's two replicas.
        Assert.Contains("- ./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro", text);
        foreach (var network in new[] { "leeds", "bristol", "glasgow" })
        {
            Assert.Contains($"REPLICA_1_GRPC: {network}-1:5000", text);
            Assert.Contains($"REPLICA_2_GRPC: {network}-2:5000", text);
        }
    }

    [Fact]
    public async Task TheHealthCommandSaysWhetherANodeIsReady()
    {
        await using var node = new NodeProcess("alpha", []);
        await node.StartAgainAsync();

        var (ready, said) = await RunAsync("dotnet", Built.NodeDll, "health", "--port", node.Port.ToString());
        Assert.True(ready == 0, said);
        Assert.Contains("readiness: Serving", said);

        node.Kill();
        var (down, saidDown) = await RunAsync("dotnet", Built.NodeDll, "health", "--port", node.Port.ToString(), "--service", "liveness");
        Assert.Equal(1, down);
        Assert.Contains("liveness: no answer (Unavailable", saidDown);
    }

    private static Task<(int Exit, string Output)> RunAsync(string program, params string[] args) =>
        ProgramRun.RunAsync(program, args, "tests/run.sh installs Debian's docker-compose, to check the compose file with it.");

    [GeneratedRegex(@"(?im)^\s*\w*PASS\w*:\s*(?<value>\S+)|Password=(?<value>[^;\s]+)")]
    private static partial Regex PasswordValue();

    [GeneratedRegex(@"""(\d[\d.]*:\d+:\d+)""")]
    private static partial Regex PublishedPort();

    [GeneratedRegex(@"Node__DashboardCookie: (\S+)")]
    private static partial Regex Cookie();
}
