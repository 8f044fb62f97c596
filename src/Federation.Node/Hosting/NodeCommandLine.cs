using Federation.Core;

namespace Federation.Node.Hosting;

/// <summary>The node's command-line switches, read the same way by a running node and the admin commands.</summary>
public static class NodeCommandLine
{
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--name"] = "Node:Name",
        ["--port"] = "Node:Port",
        ["--host"] = "Node:Host",
        ["--data"] = "Node:DataDir",
        ["--public-address"] = "Node:PublicAddress",
        ["--bus"] = "Node:Bus",
        ["--database"] = "Node:Database",
        ["--region"] = "Node:Region",
        ["--dashboard-port"] = "Node:DashboardPort",
        ["--dashboard-host"] = "Node:DashboardHost",
        ["--tls"] = "Node:Tls",
        ["--insecure-cleartext"] = "Node:InsecureCleartext",
        ["--network-key-algorithm"] = "Node:NetworkKeyAlgorithm",
    };

    /// <summary>On/off switches, which may be given without a value.</summary>
    private static readonly HashSet<string> Bare = ["--tls", "--insecure-cleartext"];

    /// <summary>
    /// Lets on/off settings be given bare (<c>--tls</c>, <c>--insecure-cleartext</c>): configuration's command-line
    /// reader would otherwise take the next argument as the value.
    /// </summary>
    public static string[] BareSwitches(string[] args)
    {
        var result = new List<string>(args.Length + 1);
        for (var i = 0; i < args.Length; i++)
        {
            result.Add(args[i]);
            if (Bare.Contains(args[i]) && (i + 1 == args.Length || !bool.TryParse(args[i + 1], out _)))
            {
                result.Add("true");
            }
        }
        return [.. result];
    }

    /// <summary>Adds the node's switches (<c>--name</c>, <c>--port</c>, …) to a configuration.</summary>
    public static IConfigurationBuilder AddNodeCommandLine(this IConfigurationBuilder configuration, string[] args) =>
        configuration.AddCommandLine(BareSwitches(args), Switches.ToDictionary());

    /// <summary>The node's settings from the same sources as a running node (for the admin commands).</summary>
    public static NodeOptions ReadOptions(string[] args) =>
        ReadConfiguration(args).GetSection("Node").Get<NodeOptions>() ?? new NodeOptions();

    /// <summary>All settings, from the same sources in the same order as a running node reads them.</summary>
    public static IConfiguration ReadConfiguration(string[] args) =>
        new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddNodeCommandLine(args)
            .Build();
}
