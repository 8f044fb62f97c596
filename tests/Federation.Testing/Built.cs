namespace Federation.Testing;

/// <summary>Where the build put the programs the process tests start.</summary>
public static class Built
{
    public static string NodeDll => Find(Path.Combine("src", "Federation.Node"), "federation-node.dll");
    public static string CliDll => Find(Path.Combine("src", "Federation.Cli"), "solnet.dll");

    /// <summary>The same configuration and framework as this test assembly (…/bin/Release/net10.0/).</summary>
    private static string Find(string project, string file)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent!.Name;
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Federation.sln")))
        {
            root = root.Parent;
        }
        var path = root is null ? file : Path.Combine(root.FullName, project, "bin", configuration, framework, file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first (bash tests/run.sh does).");
    }
}
