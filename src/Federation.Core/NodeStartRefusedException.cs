namespace Federation.Core;

/// <summary>
/// Why a node will not start, for its operator: one or two lines naming the setting or the
/// resource and what to do. <c>Program</c> prints the message alone (the stack only at debug
/// level) and exits with <see cref="ExitCode"/>, so a service manager and a person both see
/// a refusal, not a crash.
/// </summary>
public sealed class NodeStartRefusedException(string message, int exitCode = NodeStartRefusedException.Settings, Exception? cause = null)
    : Exception(message, cause)
{
    /// <summary>A setting is wrong, or the machine refuses it (a port in use, a folder it cannot write).</summary>
    public const int Settings = 2;

    /// <summary>The database or the broker cannot be reached, or refused the node.</summary>
    public const int Dependency = 3;

    /// <summary>Something no check foresaw; the message is the exception's own.</summary>
    public const int Unexpected = 1;

    public int ExitCode { get; } = exitCode;
}
