using Federation.Cli;
using Grpc.Core;

try
{
    var args0 = new Args(args);
    if (args0.Words.Count == 0 || args0.Has("--help"))
    {
        Console.WriteLine(Commands.Usage);
        return args0.Has("--help") ? 0 : 2;
    }
    return await new Commands(args0).RunAsync();
}
catch (UsageException ex)
{
    Console.Error.WriteLine($"solnet: {ex.Message}\nRun 'solnet --help' for usage.");
    return 2;
}
catch (RpcException ex) when (ServerPin.In(ex) is { } mismatch)
{
    Console.Error.WriteLine($"solnet: {mismatch.Message}");
    return 4;
}
catch (RpcException ex)
{
    Console.Error.WriteLine($"solnet: {ex.Status.Detail} ({ex.StatusCode})");
    // 3: the node refused; 4: the node could not be reached or failed.
    return ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal ? 4 : 3;
}
