using System.Diagnostics;
using Federation.Core;

namespace Federation.Node.Tests;

/// <summary>
/// The throwaway RabbitMQ that tests/run.sh starts on loopback. Each node gets a virtual
/// host of its own, as each network has a broker of its own: they never share queues.
/// </summary>
public static class Broker
{
    public const string Unset = "FED_TEST_RABBITMQ_PORT is not set: these tests need a real RabbitMQ. "
        + "Run them through `bash tests/run.sh`, which installs RabbitMQ if needed and starts a throwaway one on loopback.";

    public static int Port => int.TryParse(Environment.GetEnvironmentVariable("FED_TEST_RABBITMQ_PORT"), out var p)
        ? p
        : throw new InvalidOperationException(Unset);

    private static string Ctl => Environment.GetEnvironmentVariable("FED_TEST_RABBITMQCTL") is { Length: > 0 } path
        ? path
        : throw new InvalidOperationException(Unset);

    /// <summary>Creates a fresh virtual host that the default loopback user may use.</summary>
    public static async Task<string> NewVirtualHostAsync(string name)
    {
        var vhost = $"{name}-{Guid.NewGuid():N}"[..24];
        await CtlAsync("add_vhost", vhost);
        await CtlAsync("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        return vhost;
    }

    /// <summary>A broker user with a password and no permissions on any virtual host.</summary>
    public static Task AddUserAsync(string user, string password) => CtlAsync("add_user", user, password);

    /// <summary>Points a node's bus at this broker, on <paramref name="vhost"/>.</summary>
    public static void Use(NodeOptions o, string vhost, bool quorumQueues = false)
    {
        o.Bus = "rabbitmq";
        o.RabbitMq.Host = "127.0.0.1";
        o.RabbitMq.Port = (ushort)Port;
        o.RabbitMq.VirtualHost = vhost;
        o.RabbitMq.QuorumQueues = quorumQueues;
    }

    /// <summary>Stops the RabbitMQ application (connections drop, queues stay on disk).</summary>
    public static Task StopAsync() => CtlAsync("stop_app");

    public static Task StartAsync() => CtlAsync("start_app");

    /// <summary>Messages waiting in each queue of <paramref name="vhost"/>.</summary>
    public static async Task<string> QueuesAsync(string vhost) =>
        await CtlAsync("list_queues", "-p", vhost, "name", "type", "durable", "messages");

    private static async Task<string> CtlAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Ctl) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-q");
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = p.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = p.StandardError.ReadToEndAsync(timeout.Token);
        await p.WaitForExitAsync(timeout.Token);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        }
        return await stdout;
    }
}
