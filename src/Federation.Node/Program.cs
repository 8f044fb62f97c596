using Federation.Node.Hosting;

if (AdminCommands.Handles(args))
{
    return await AdminCommands.RunFromCommandLineAsync(args);
}

var builder = NodeHost.CreateBuilder(args);
builder.AddFederationNode();

var app = builder.Build();
app.MapFederationNode();
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(app.FederationBanner()));

await app.RunAsync();
return 0;

/// <summary>Entry point; public so tests can reference the assembly.</summary>
public partial class Program;
