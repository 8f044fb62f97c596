using Federation.Core;
using Federation.Node.Hosting;
using Microsoft.Extensions.Options;

// Before anything is opened: every file and folder this process makes is its user's only.
DataFolderPermissions.RestrictUmask();

if (HealthProbe.Handles(args))
{
    return await HealthProbe.RunAsync(args);
}

if (AdminCommands.Handles(args))
{
    return await AdminCommands.RunFromCommandLineAsync(args);
}

WebApplication? app = null;
try
{
    var builder = NodeHost.CreateBuilder(args);
    builder.AddFederationNode();
    app = builder.Build();
    app.MapFederationNode();
    var options = app.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
    if (options.Bus.Equals("rabbitmq", StringComparison.OrdinalIgnoreCase))
    {
        await StartupChecks.EnsureBrokerAsync(options.RabbitMq, app.Logger);
    }
    app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(app.FederationBanner()));
    await app.StartAsync();
}
catch (Exception ex)
{
    return StartFailure.Report(ex, args, app);
}

await app.WaitForShutdownAsync();
return 0;

/// <summary>Entry point; public so tests can reference the assembly.</summary>
public partial class Program;
