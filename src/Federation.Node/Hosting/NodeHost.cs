using Federation.Core;

namespace Federation.Node.Hosting;

/// <summary>
/// Entry points for whoever hosts a node in a process of their own (tests, the demo, the
/// load tool); <c>Program.cs</c> composes the same extensions.
/// </summary>
public static class NodeHost
{
    /// <summary>
    /// The slim builder with the node's switches. It leaves out what a node does not use
    /// (IIS, QUIC, hosting start-up assemblies, static web assets): less to load and keep
    /// resident (docs/performance.md, "How the node is tuned").
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        args = NodeCommandLine.BareSwitches(args);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args });
        builder.Configuration.AddNodeCommandLine(args);
        return builder;
    }

    /// <summary>The node's settings from the same sources as a running node (for the admin commands).</summary>
    public static NodeOptions ReadOptions(string[] args) => NodeCommandLine.ReadOptions(args);

    /// <summary>A node ready to start; <paramref name="customize"/> sees the builder just before it is built.</summary>
    public static WebApplication Build(string[] args, Action<NodeOptions>? configure = null, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = CreateBuilder(args);
        builder.AddFederationNode(configure);
        customize?.Invoke(builder);
        return builder.Build().MapFederationNode();
    }
}
