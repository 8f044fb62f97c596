using Federation.Node.Hosting;

var app = NodeHost.Build(args);
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(NodeHost.Banner(app)));
app.Run();

/// <summary>Entry point; public so tests can reference the assembly.</summary>
public partial class Program;
