using Federation.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Hosting;

/// <summary>
/// How a node that cannot start tells its operator: one or two lines on standard error
/// naming the setting or resource and what to do, and an exit code a service manager can
/// tell from a crash (<see cref="NodeStartRefusedException"/>). The stack is for
/// developers: only at debug level (<c>--Logging:LogLevel:Default=Debug</c>).
/// </summary>
public static class StartFailure
{
    public static int Report(Exception ex, string[] args, WebApplication? app)
    {
        var options = Options(args, app);
        var refusal = StartupChecks.Explain(ex, options);
        var message = refusal?.Message
            ?? $"could not start: {ex.GetType().Name}: {ex.Message} (start with --Logging:LogLevel:Default=Debug to see where)";
        Console.Error.WriteLine($"federation-node: {message}");
        if (AtDebugLevel(args))
        {
            Console.Error.WriteLine(ex.ToString());
        }
        return refusal?.ExitCode ?? NodeStartRefusedException.Unexpected;
    }

    /// <summary>The settings as the node read them, or as far as they can be read: the failure may be in reading them.</summary>
    private static NodeOptions? Options(string[] args, WebApplication? app)
    {
        try
        {
            return app?.Services.GetRequiredService<IOptions<NodeOptions>>().Value ?? NodeCommandLine.ReadOptions(args);
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static bool AtDebugLevel(string[] args)
    {
        var level = NodeCommandLine.ReadConfiguration(args)["Logging:LogLevel:Default"];
        return level is not null && (level.Equals("Debug", StringComparison.OrdinalIgnoreCase) || level.Equals("Trace", StringComparison.OrdinalIgnoreCase));
    }
}
