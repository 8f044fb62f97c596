using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Federation.Testing;
using Npgsql;

namespace Federation.Node.Tests;

/// <summary>
/// Each thing that stops a node from starting ends the process with one or two lines naming
/// the setting or the resource and what to do, an exit code that is not a crash's (2: the
/// settings or the machine; 3: the database or the broker), and no stack trace
/// (docs/operators.md, "When a node will not start").
/// </summary>
public sealed class StartupErrorTests
{
    /// <summary>Starts <paramref name="node"/>, expects it to exit with <paramref name="exitCode"/>, and returns its output.</summary>
    private static async Task<string> RefusedAsync(NodeProcess node, int exitCode)
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(node.StartAgainAsync);
        Assert.Contains($"exited with {exitCode}", ex.Message);
        // A message for the operator, not a crash.
        Assert.False(node.LogContains("   at "), node.LogTail());
        Assert.False(node.LogContains("Unhandled exception"), node.LogTail());
        Assert.Equal(1, node.LogCount("federation-node: "));
        return node.LogTail();
    }

    [Fact]
    public async Task APortInUseIsNamedWithItsSettingAndNothingIsMadeInTheDataFolder()
    {
        var dataDir = Path.Combine(Directory.CreateTempSubdirectory("fedp-port-").FullName, "data");
        await using var node = new NodeProcess("alpha", [], dataDir);
        var port = node.Port;
        using var taken = new TcpListener(IPAddress.Loopback, port);
        taken.Start();

        var log = await RefusedAsync(node, 2);

        Assert.Contains($"federation-node: Port {port} on 127.0.0.1 (Node:Port, --port) is already in use", log);
        // Refused before the data folder (and the key in it) was made.
        Assert.False(Directory.Exists(dataDir), "the data folder was created before the refusal");
    }

    [Fact]
    public async Task ADashboardPortInUseIsNamedWithItsOwnSetting()
    {
        using var taken = new TcpListener(IPAddress.Loopback, Ports.Free());
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var node = new NodeProcess("alpha", new Dictionary<string, string> { ["Node__DashboardPort"] = port.ToString() });

        var log = await RefusedAsync(node, 2);

        Assert.Contains($"Port {port} on 127.0.0.1 (Node:DashboardPort, --dashboard-port) is already in use", log);
    }

    [Fact]
    public async Task ASettingThatIsNotANumberIsNamedWithWhereItCanBeSet()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string> { ["Node__DeliveryConcurrency"] = "lots" });

        var log = await RefusedAsync(node, 2);

        Assert.Contains("The setting Node:DeliveryConcurrency is 'lots', which is not a whole number", log);
        Assert.Contains("the environment variable Node__DeliveryConcurrency", log);
    }

    [Fact]
    public async Task ABusThatDoesNotExistIsNamed()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string> { ["Node__Bus"] = "kafka" });

        var log = await RefusedAsync(node, 2);

        Assert.Contains("Node:Bus is 'kafka' (--bus); use 'inmemory' or 'rabbitmq'.", log);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")] // Unix modes and users
    public async Task ADataFolderTheNodesUserCannotWriteIsNamed()
    {
        // A folder its user may read but not write: as root (who may write anything), the
        // node runs as `nobody`; as anyone else, the folder's parent is made read-only.
        var parent = Directory.CreateTempSubdirectory("fedp-ro-");
        var asRoot = Environment.UserName == "root";
        parent.UnixFileMode = asRoot
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
            : UnixFileMode.UserRead | UnixFileMode.UserExecute;
        var dataDir = Path.Combine(parent.FullName, "data");
        try
        {
            await using var node = new NodeProcess("alpha", [], dataDir)
            {
                RunUnder = asRoot ? ["runuser", "-u", "nobody", "--", "env", "HOME=/tmp"] : [],
            };

            var log = await RefusedAsync(node, 2);

            Assert.Contains($"The data folder {dataDir} (Node:DataDir, --data) cannot be created or written by user '{(asRoot ? "nobody" : Environment.UserName)}'", log);
            Assert.Contains("Choose another folder, or give this one to that user", log);
        }
        finally
        {
            parent.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            parent.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task APostgresDatabaseThatDoesNotExistIsNamedWithHowToCreateIt()
    {
        var cs = new NpgsqlConnectionStringBuilder(Admin) { Database = "nosuch" + Guid.NewGuid().ToString("N")[..8] };
        await using var node = new NodeProcess("alpha", Postgres(cs.ConnectionString));

        var log = await RefusedAsync(node, 3);

        Assert.Contains($"PostgreSQL at 127.0.0.1:{cs.Port} has no database '{cs.Database}'", log);
        Assert.Contains($"createdb -O {cs.Username} {cs.Database}", log);
    }

    [Fact]
    public async Task AWrongPostgresPasswordIsNamed()
    {
        // The test cluster trusts every loopback connection; this one role must give a password.
        var role = "fedpw" + Guid.NewGuid().ToString("N")[..8];
        Execute(Admin, $"CREATE ROLE {role} LOGIN PASSWORD 'right-password'");
        using (var c = new NpgsqlConnection(Admin))
        {
            c.Open();
            using var show = new NpgsqlCommand("SHOW hba_file", c);
            var hba = (string)show.ExecuteScalar()!;
            File.WriteAllText(hba, $"host all {role} 127.0.0.1/32 scram-sha-256\n" + File.ReadAllText(hba));
            using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", c);
            reload.ExecuteScalar();
        }
        var cs = new NpgsqlConnectionStringBuilder(Admin) { Username = role, Password = "wrong-password" };
        await using var node = new NodeProcess("alpha", Postgres(cs.ConnectionString));

        var log = await RefusedAsync(node, 3);

        Assert.Contains($"refused user '{role}': no such role, a wrong password", log);
        Assert.Contains("Check Username and Password there", log);
    }

    [Fact]
    public async Task APostgresRoleWithoutRightsIsNamedWithTheGrantItNeeds()
    {
        var role = "fednr" + Guid.NewGuid().ToString("N")[..8];
        Execute(Admin, $"CREATE ROLE {role} LOGIN");
        Execute(Admin, $"CREATE DATABASE {role}");
        try
        {
            // PostgreSQL 15 on: nobody but the owner creates tables in a database's public schema.
            var cs = new NpgsqlConnectionStringBuilder(Admin) { Username = role, Database = role };
            await using var node = new NodeProcess("alpha", Postgres(cs.ConnectionString));

            var log = await RefusedAsync(node, 3);

            Assert.Contains($"role '{role}' may not create or change the node's tables in database '{role}'", log);
            Assert.Contains($"ALTER DATABASE {role} OWNER TO {role}", log);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            Execute(Admin, $"DROP DATABASE IF EXISTS {role} WITH (FORCE)");
        }
    }

    /// <summary>
    /// Not a refusal: a broker that does not answer may be down for a while, and a node works
    /// through that (DurabilityTests starts one during an outage). It starts, and says so once.
    /// </summary>
    [Fact]
    public async Task ARabbitMqThatDoesNotAnswerIsNamedOnceAndTheNodeStartsWithoutIt()
    {
        using var closed = new TcpListener(IPAddress.Loopback, Ports.Free());
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>
        {
            ["Node__Bus"] = "rabbitmq",
            ["Node__RabbitMq__Port"] = port.ToString(),
        });

        await node.StartAgainAsync();

        Assert.Equal(1, node.LogCount($"RabbitMQ does not answer at 127.0.0.1:{port} (Node:RabbitMq:Host, Node:RabbitMq:Port): starting without it."));
        Assert.True(node.Running);
    }

    [Fact]
    public async Task ARabbitMqVirtualHostThatDoesNotExistIsNamedWithHowToCreateIt()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>
        {
            ["Node__Bus"] = "rabbitmq",
            ["Node__RabbitMq__Port"] = Broker.Port.ToString(),
            ["Node__RabbitMq__VirtualHost"] = "nosuch-vhost",
        });

        var log = await RefusedAsync(node, 3);

        Assert.Contains($"RabbitMQ at 127.0.0.1:{Broker.Port} has no virtual host 'nosuch-vhost' (Node:RabbitMq:VirtualHost)", log);
        Assert.Contains("rabbitmqctl add_vhost nosuch-vhost", log);
    }

    [Fact]
    public async Task ARabbitMqUserThatDoesNotExistIsNamed()
    {
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>
        {
            ["Node__Bus"] = "rabbitmq",
            ["Node__RabbitMq__Port"] = Broker.Port.ToString(),
            ["Node__RabbitMq__Username"] = "nosuchuser",
            ["Node__RabbitMq__Password"] = "whatever",
        });

        var log = await RefusedAsync(node, 3);

        Assert.Contains($"RabbitMQ at 127.0.0.1:{Broker.Port} refused user 'nosuchuser': no such user, or a wrong password", log);
    }

    [Fact]
    public async Task ARabbitMqUserWithoutRightsOnTheVirtualHostIsNamedWithTheGrantItNeeds()
    {
        var vhost = await Broker.NewVirtualHostAsync("norights");
        var user = "fed" + Guid.NewGuid().ToString("N")[..8];
        await Broker.AddUserAsync(user, "pw");
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>
        {
            ["Node__Bus"] = "rabbitmq",
            ["Node__RabbitMq__Port"] = Broker.Port.ToString(),
            ["Node__RabbitMq__VirtualHost"] = vhost,
            ["Node__RabbitMq__Username"] = user,
            ["Node__RabbitMq__Password"] = "pw",
        });

        var log = await RefusedAsync(node, 3);

        Assert.Contains($"does not let user '{user}' into virtual host '{vhost}'", log);
        Assert.Contains($"rabbitmqctl set_permissions -p {vhost} {user} '.*' '.*' '.*'", log);
    }

    private static string Admin => Environment.GetEnvironmentVariable("FED_TEST_POSTGRES") is { Length: > 0 } cs
        ? cs
        : throw new InvalidOperationException(TestPostgresDatabase.Unset);

    private static Dictionary<string, string> Postgres(string connectionString) => new()
    {
        ["Node__Database"] = "postgres",
        ["Node__Postgres__ConnectionString"] = connectionString,
    };

    private static void Execute(string connectionString, string sql)
    {
        using var c = new NpgsqlConnection(connectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }
}
