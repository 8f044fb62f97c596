using System.Diagnostics;
using Federation.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Dashboard;

/// <summary>
/// The dashboard's container: MVC, Razor Pages, authentication, antiforgery and Data
/// Protection, built once, when first asked for (see <see cref="DashboardSetup.AddFederationDashboard"/>).
/// The node's own services (this project's types, and its options) are not registered
/// again here but reached in the node's container: singletons as they are, everything else
/// through the node's scope of the request (<see cref="NodeScope"/>), so a page gets the
/// very instances a gRPC call of the same request would.
/// </summary>
public sealed class DashboardServices(IServiceProvider node, IServiceCollection nodeServices, NodeOptions options)
{
    private readonly Lazy<ServiceProvider> _provider = new(() => Build(node, nodeServices, options));

    public IServiceProvider Provider => _provider.Value;

    /// <summary>The node's scope of the request being served (set by the dashboard's branch).</summary>
    public sealed class NodeScope
    {
        public IServiceProvider? Services { get; set; }
    }

    private static ServiceProvider Build(IServiceProvider node, IServiceCollection nodeServices, NodeOptions options)
    {
        var services = new ServiceCollection();
        // What ASP.NET Core's own parts take from the host.
        services.AddSingleton(node.GetRequiredService<IConfiguration>());
        services.AddSingleton(node.GetRequiredService<IWebHostEnvironment>());
        services.AddSingleton<IHostEnvironment>(sp => sp.GetRequiredService<IWebHostEnvironment>());
        services.AddSingleton(node.GetRequiredService<ILoggerFactory>());
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(node.GetRequiredService<DiagnosticListener>());
        services.AddSingleton<DiagnosticSource>(sp => sp.GetRequiredService<DiagnosticListener>());
        services.AddOptions();
        services.AddSingleton(node.GetRequiredService<IOptions<NodeOptions>>());

        // The node's own services, as the pages and the session check ask for them.
        services.AddScoped<NodeScope>();
        foreach (var d in nodeServices.Where(d => !d.ServiceType.IsGenericTypeDefinition && IsTheNodes(d.ServiceType))
                     .GroupBy(d => d.ServiceType).Select(g => g.Last()))
        {
            var type = d.ServiceType;
            if (d.Lifetime == ServiceLifetime.Singleton)
            {
                services.AddSingleton(type, _ => node.GetRequiredService(type));
            }
            else
            {
                services.AddScoped(type, sp => (sp.GetRequiredService<NodeScope>().Services
                    ?? throw new InvalidOperationException($"{type.Name} is the node's, asked for outside a dashboard request.")).GetRequiredService(type));
            }
        }

        DashboardSetup.AddDashboardServices(services, options);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = false });
    }

    /// <summary>A type of this project's: the node itself (federation-node) or one of its libraries (Federation.*).</summary>
    private static bool IsTheNodes(Type type) =>
        type.Assembly == typeof(DashboardServices).Assembly || type.Assembly.GetName().Name?.StartsWith("Federation.", StringComparison.Ordinal) == true;
}
