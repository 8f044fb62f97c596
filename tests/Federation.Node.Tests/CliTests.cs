using Federation.Contracts.V1;

namespace Federation.Node.Tests;

/// <summary>The solnet command line as an operator and a delegate use it: tokens, the config file, exit codes.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task AnOperatorCreatesADelegateTokenThatWorksFromTheConfigFileAndCanBeRevoked()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var config = Path.Combine(a.DataDir, "solnet.conf");

        var created = await Solnet.RunAsync(a.DataDir, "token", "create", "--holder", "Sam", "--role", "delegate", "--field", "token");
        Assert.Equal(0, created.ExitCode);
        var token = created.Out.Trim();
        Assert.StartsWith("sn_", token);

        // The delegate keeps node and token in a config file instead of passing them each time.
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "--config", config, "config", "set", "node", a.Address)).ExitCode);
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "--config", config, "config", "set", "token", token)).ExitCode);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        }
        var asSam = await SolnetWithout(config, "info", "--field", "name");
        Assert.Equal((0, "alpha"), (asSam.ExitCode, asSam.Out.Trim()));

        // The delegate role cannot start a fight: exit code 3 and the server's reason.
        var refused = await SolnetWithout(config, "fight", "draft", "--title", "x", "--target", "y");
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("needs the organiser role", refused.Error);

        // The operator reads the refusal in the audit log; the delegate may not read the log.
        var audit = await Solnet.RunAsync(a.DataDir, "audit", "--json");
        Assert.Equal(0, audit.ExitCode);
        using (var entries = System.Text.Json.JsonDocument.Parse(audit.Out))
        {
            Assert.Contains(entries.RootElement.EnumerateArray(), e => e.GetProperty("who").GetString() == "Sam"
                && e.GetProperty("action").GetString() == "DraftFight" && e.GetProperty("outcome").GetString() == "PermissionDenied");
        }
        var snooping = await SolnetWithout(config, "audit");
        Assert.Equal(3, snooping.ExitCode);
        Assert.Contains("needs the operator role", snooping.Error);

        var id = (await Solnet.RunAsync(a.DataDir, "token", "list", "--json")).Out;
        Assert.Contains("\"holder\": \"Sam\"", id);
        var tokenId = token.Split('_')[1];
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "token", "revoke", tokenId)).ExitCode);
        var afterRevoke = await SolnetWithout(config, "info");
        Assert.Equal(3, afterRevoke.ExitCode);
        Assert.Contains("not valid for this node", afterRevoke.Error);
        Assert.Empty(a.Store.ListObjects(ObjectKind.Fight));
    }

    /// <summary>solnet with only a config file: no --data, so the token and address come from the file.</summary>
    private static Task<Solnet.Result> SolnetWithout(string config, params string[] args) =>
        Solnet.RunWithoutDataAsync(["--config", config, .. args]);
}
