using System.Diagnostics;
using Federation.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Dashboard;

/// <summary>
/// The dashboard's container: MVC, Razor Pages, authentication, antiforgery and Data
/// Protection, built once, when first asked for (see <see cref="DashboardSetup.AddFederationDashboard"/>).
/// The node's own services (this project's types, and its options) are not registered
/// again here but forwarded to the node's container, so a page gets the very instances the
/// rest of the node uses. Only its singletons are: every node service a page takes is one,
/// and a forwarded scoped one would be disposed by both containers' scopes.
/// </summary>
/// <remarks>
/// Not disposed with the node: it would dispose the node's singletons it forwards, which the
/// node's container disposes itself. It holds nothing that needs disposing of its own
/// (no timers, no files), and goes with the node's container.
/// </remarks>
public sealed class DashboardServices(IServiceProvider node, IServiceCollection nodeServices, NodeOptions options)
{
    private readonly Lazy<ServiceProvider> _provider = new(() => Build(node, nodeServices, options));

    public IServiceProvider Provider => _provider.Value;

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
        foreach (var type in nodeServices.Where(d => d.Lifetime == ServiceLifetime.Singleton && !d.ServiceType.IsGenericTypeDefinition && IsTheNodes(d.ServiceType))
                     .Select(d => d.ServiceType).Distinct())
        {
            services.AddSingleton(type, _ => node.GetRequiredService(type));
        }

        DashboardSetup.AddDashboardServices(services, options);
        return services.BuildServiceProvider(validateScopes: true);
    }

    /// <summary>A type of this project's: the node itself (federation-node) or one of its libraries (Federation.*).</summary>
    private static bool IsTheNodes(Type type) =>
        type.Assembly == typeof(DashboardServices).Assembly || type.Assembly.GetName().Name?.StartsWith("Federation.", StringComparison.Ordinal) == true;
}
