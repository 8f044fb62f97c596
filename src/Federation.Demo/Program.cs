using System.Runtime.InteropServices;
using Federation.Demo;

// One command, three networks: `dotnet run --project src/Federation.Demo`.
var basePort = 5101;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--base-port" && i + 1 < args.Length && int.TryParse(args[i + 1], out var p) && p is > 0 and < 62000)
    {
        basePort = p;
        i++;
    }
    else
    {
        Console.Error.WriteLine("usage: federation-demo [--base-port 5101]   (gRPC ports N..N+2, dashboards N+3000..N+3002)");
        return 2;
    }
}

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.TrySetResult();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    stop.TrySetResult();
});

await using var federation = new DemoFederation(Path.Combine("data", "demo"), basePort);
try
{
    Console.WriteLine("Starting three networks on loopback and seeding them with sample call-outs and a fight…");
    await federation.StartAsync();
    await federation.SeedAsync();
}
catch (IOException ex) when (ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"A port the demo needs is taken ({ex.Message}). Try --base-port 5201.");
    return 1;
}
catch (TimeoutException ex)
{
    Console.Error.WriteLine($"The demo could not finish seeding: {ex.Message}");
    return 1;
}

Console.WriteLine(federation.Describe());
await stop.Task;
Console.WriteLine("Stopping the three nodes…");
return 0;
