using System.Reflection;

namespace Federation.Contracts;

/// <summary>
/// The release this build belongs to (Directory.Build.props sets one version for every
/// project), for `solnet --version`, the node's start-up line, its node info and its
/// metrics: an operator says "we run 0.3" and means the same thing everywhere.
/// </summary>
public static class SoftwareVersion
{
    /// <summary>The semantic version, e.g. "0.1.0".</summary>
    public static string Number { get; }

    /// <summary>The version and, when the build knew it, the commit: "0.1.0 (commit 0d480cc)".</summary>
    public static string Described { get; }

    static SoftwareVersion()
    {
        // The SDK appends "+<commit>" to the informational version when it builds from git.
        var informational = typeof(SoftwareVersion).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+');
        Number = plus < 0 ? informational : informational[..plus];
        var commit = plus < 0 ? "" : informational[(plus + 1)..];
        Described = commit.Length == 0 ? Number : $"{Number} (commit {commit[..Math.Min(7, commit.Length)]})";
    }
}
