using Federation.Node.Hosting;


if (AdminCommands.Handles(args))
{
    try
    {
        return await AdminCommands.RunAsync(args);
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine(ex.Message + "\n" + AdminCommands.Usage);
        return 2;
    }
}

var app = NodeHost.Build(args);
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(NodeHost.Banner(app)));
await app.RunAsync();
return 0;

/// <summary>Entry point; public so tests can reference the assembly.</summary>
public partial class Program;
