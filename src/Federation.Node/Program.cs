using Federation.Node.Hosting;

// Before anything is opened: every file and folder this process makes is its user's only.
DataFolderPermissions.RestrictUmask();

if (AdminCommands.Handles(args))
{
    return await AdminCommands.RunFromCommandLineAsync(args);
}

WebApplication app;
try
{
    var builder = NodeHost.CreateBuilder(args);
    builder.AddFederationNode();
    app = builder.Build();
    app.MapFederationNode();
}
catch (NodeStartRefusedException refused)
{
    // The operator's settings, not a fault in the node: one line saying what to change.
    Console.Error.WriteLine($"federation-node: {refused.Message}");
    return 2;
}
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(app.FederationBanner()));

await app.RunAsync();
return 0;

/// <summary>Entry point; public so tests can reference the assembly.</summary>
public partial class Program;
