namespace Federation.Testing;

/// <summary>Where the build put the programs the process tests start.</summary>
public static class Built
{
    public static string NodeDll => Find(Path.Combine("src", "Federation.Node"), "federation-node.dll");
    public static string CliDll => Find(Path.Combine("src", "Federation.Cli"), "solnet.dll");

    /// <summary>The repository: the folder above this test assembly that holds Federation.sln.</summary>
    public static string Root
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Federation.sln")))
            {
                root = root.Parent;
            }
            return root?.FullName ?? throw new DirectoryNotFoundException($"No Federation.sln above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>The same configuration and framework as this test assembly (…/bin/Release/net10.0/).</summary>
    private static string Find(string project, string file)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent!.Name;
        var path = Path.Combine(Root, project, "bin", configuration, framework, file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first (bash tests/run.sh does).");
    }
}
