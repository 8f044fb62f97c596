using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Federation.Core;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Federation.Node.Hosting;

/// <summary>
/// What can stop a node from starting, found before it starts and told in words an operator
/// can act on (docs/operators.md, "When a node will not start"): each check either passes
/// or throws a <see cref="NodeStartRefusedException"/> naming the setting or the resource.
/// </summary>
public static partial class StartupChecks
{
    /// <summary>
    /// Fails if something already listens on <paramref name="port"/>, before the data folder
    /// and the key are made: a node that cannot serve should leave nothing behind. Kestrel's
    /// own bind still reports a port taken between this check and it (<see cref="Explain"/>).
    /// </summary>
    public static void EnsurePortFree(string host, int port, string setting, string commandLine)
    {
        if (port <= 0 || !IPAddress.TryParse(host, out var address))
        {
            return;
        }
        // Bound and listening as Kestrel binds (the runtime sets SO_REUSEADDR on Unix), so a
        // port that only has connections in TIME_WAIT from a node stopped a moment ago passes.
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
            probe.Listen(1);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw PortRefused(host, port, setting, commandLine, ex.SocketErrorCode == SocketError.AccessDenied, ex);
        }
    }

    private static NodeStartRefusedException PortRefused(string host, int port, string setting, string commandLine, bool denied, Exception cause) =>
        new(denied
                ? $"Port {port} on {host} ({setting}, {commandLine}) needs privileges this user does not have. Choose a port above 1023."
                : $"Port {port} on {host} ({setting}, {commandLine}) is already in use by another program, or another node. Stop it, or choose another port.",
            NodeStartRefusedException.Settings, cause);

    /// <summary>
    /// Makes sure the node may create and write its data folder: a probe file is written
    /// and removed, so a folder it could read but not write fails here and not at the
    /// first submission.
    /// </summary>
    /// <summary>A Node:TimeZone this machine does not know is a settings mistake, said at start rather than on the first page.</summary>
    public static void EnsureTimeZone(NodeOptions options)
    {
        try
        {
            _ = options.FindZone();
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new NodeStartRefusedException(
                $"Node:TimeZone '{options.TimeZone}' is not a time zone this machine knows: give an IANA id such as Europe/London or UTC.",
                NodeStartRefusedException.Settings, ex);
        }
    }

    /// <summary>A Node:NetworkKeyAlgorithm this release cannot make is a settings mistake, said at start, before any key is made.</summary>
    public static void EnsureNetworkKeyAlgorithm(NodeOptions options)
    {
        if (options.FindNetworkKeyAlgorithm() is null)
        {
            throw new NodeStartRefusedException(
                $"Node:NetworkKeyAlgorithm '{options.NetworkKeyAlgorithm}' (--network-key-algorithm) is not one this release makes: give ed25519, or ecdsa-p256 for a network that must peer with release 0.1.0 nodes.",
                NodeStartRefusedException.Settings);
        }
    }

    public static void EnsureDataFolderWritable(string dataDir)
    {
        var full = Path.GetFullPath(dataDir);
        try
        {
            DataFolderPermissions.Secure(full);
            var probe = Path.Combine(full, $".write-check-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new NodeStartRefusedException(
                $"The data folder {full} (Node:DataDir, --data) cannot be created or written by user '{Environment.UserName}': {ex.Message} "
                + $"Choose another folder, or give this one to that user (chown -R {Environment.UserName} {full}).",
                NodeStartRefusedException.Settings, ex);
        }
    }

    /// <summary>
    /// Connects to the broker once with the node's settings, so a wrong user, password or
    /// virtual host (which no retry mends) is said in one line and the node does not start.
    /// A broker that does not answer is an outage, not a mistake the node can tell apart
    /// from one: the node starts without it, as it keeps working through a broker outage
    /// (changes wait in its database), and says so once.
    /// </summary>
    public static async Task EnsureBrokerAsync(RabbitMqOptions r, ILogger logger, CancellationToken ct = default)
    {
        var factory = new ConnectionFactory
        {
            HostName = r.Host,
            Port = r.Port,
            VirtualHost = r.VirtualHost,
            UserName = r.Username,
            Password = r.Password,
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
        };
        try
        {
            await using var connection = await factory.CreateConnectionAsync("federation-node start-up check", ct);
            // A missing virtual host, or one the user may not enter, can close the connection
            // just after it opened: opening a channel is what finds out.
            await using (await connection.CreateChannelAsync(cancellationToken: ct))
            {
            }
            await connection.CloseAsync(ct);
        }
        catch (Exception ex) when (BrokerRefusal(ex, r) is { } refusal)
        {
            throw refusal;
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or IOException or SocketException or TimeoutException)
        {
            logger.LogWarning(
                "RabbitMQ does not answer at {Host}:{Port} (Node:RabbitMq:Host, Node:RabbitMq:Port): starting without it. "
                + "Changes wait in the database and are dispatched once it answers; if the address is wrong, correct it",
                r.Host, r.Port);
        }
    }

    /// <summary>A refusal by a broker that answered: retrying would only repeat it.</summary>
    private static NodeStartRefusedException? BrokerRefusal(Exception ex, RabbitMqOptions r)
    {
        var all = Chain(ex).ToList();
        if (all.OfType<AuthenticationFailureException>().Any())
        {
            return new NodeStartRefusedException(
                $"RabbitMQ at {r.Host}:{r.Port} refused user '{r.Username}': no such user, or a wrong password (Node:RabbitMq:Username, Node:RabbitMq:Password). "
                + $"Create the user (rabbitmqctl add_user {r.Username}) or correct the settings.",
                NodeStartRefusedException.Dependency, ex);
        }
        // The broker closes the connection with NOT_ALLOWED (530) when the virtual host does
        // not exist, or when the user has no permissions on it; its text says which.
        var notAllowed = all.Select(e => e.Message).FirstOrDefault(m => m.Contains("NOT_ALLOWED", StringComparison.Ordinal));
        if (notAllowed is not null)
        {
            return notAllowed.Contains("not found", StringComparison.OrdinalIgnoreCase)
                ? new NodeStartRefusedException(
                    $"RabbitMQ at {r.Host}:{r.Port} has no virtual host '{r.VirtualHost}' (Node:RabbitMq:VirtualHost). "
                    + $"Create it and let the user in: rabbitmqctl add_vhost {r.VirtualHost} && rabbitmqctl set_permissions -p {r.VirtualHost} {r.Username} '.*' '.*' '.*'",
                    NodeStartRefusedException.Dependency, ex)
                : new NodeStartRefusedException(
                    $"RabbitMQ at {r.Host}:{r.Port} does not let user '{r.Username}' into virtual host '{r.VirtualHost}' (Node:RabbitMq:VirtualHost). "
                    + $"Grant it: rabbitmqctl set_permissions -p {r.VirtualHost} {r.Username} '.*' '.*' '.*'",
                    NodeStartRefusedException.Dependency, ex);
        }
        return null;
    }

    /// <summary>
    /// The refusal an exception from starting the node stands for, or null for one no check
    /// foresaw. Walks the inner exceptions: the database's and Kestrel's arrive wrapped.
    /// </summary>
    public static NodeStartRefusedException? Explain(Exception ex, NodeOptions? options)
    {
        foreach (var e in Chain(ex))
        {
            switch (e)
            {
                case NodeStartRefusedException refused:
                    return refused;
                case PostgresException pg:
                    return DatabaseRefusal(pg, options);
                case NpgsqlException npgsql:
                    var target = PostgresTarget(options);
                    return new NodeStartRefusedException(
                        $"Cannot reach PostgreSQL at {target.Host}:{target.Port} (Node:Postgres:ConnectionString): {Innermost(npgsql).Message.TrimEnd('.')}. "
                        + "Is it running and listening there?",
                        NodeStartRefusedException.Dependency, ex);
                case InvalidOperationException when ConversionFailure().Match(e.Message) is { Success: true } m:
                    return BadValue(m.Groups["key"].Value, m.Groups["value"].Value, m.Groups["type"].Value, ex);
                case IOException when e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException && options is not null:
                    // Taken between EnsurePortFree and Kestrel's bind: say which of the two ports it was.
                    var dashboard = e.Message.Contains($":{options.ResolvedDashboardPort}", StringComparison.Ordinal) && options.ResolvedDashboardPort > 0;
                    return dashboard
                        ? PortRefused(options.DashboardHost, options.ResolvedDashboardPort, "Node:DashboardPort", "--dashboard-port", false, ex)
                        : PortRefused(options.Host, options.Port, "Node:Port", "--port", false, ex);
            }
        }
        return null;
    }

    private static NodeStartRefusedException DatabaseRefusal(PostgresException pg, NodeOptions? options)
    {
        var t = PostgresTarget(options);
        var where = $"PostgreSQL at {t.Host}:{t.Port}";
        var message = pg.SqlState switch
        {
            // invalid_catalog_name
            PostgresErrorCodes.InvalidCatalogName =>
                $"{where} has no database '{t.Database}' (Node:Postgres:ConnectionString). "
                + $"Create it, owned by the node's role: createdb -O {t.Username} {t.Database}",
            PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification =>
                $"{where} refused user '{t.Username}': no such role, a wrong password, or no pg_hba.conf entry for it (Node:Postgres:ConnectionString). "
                + $"Check Username and Password there, or create the role: createuser --pwprompt {t.Username}",
            PostgresErrorCodes.InsufficientPrivilege =>
                $"{where}: role '{t.Username}' may not create or change the node's tables in database '{t.Database}' ({pg.MessageText}). "
                + $"Make it the database's owner: ALTER DATABASE {t.Database} OWNER TO {t.Username}; and, on PostgreSQL 15 and later, ALTER SCHEMA public OWNER TO {t.Username};",
            _ => $"{where} refused the node: {pg.MessageText} (SQLSTATE {pg.SqlState}).",
        };
        return new NodeStartRefusedException(message, NodeStartRefusedException.Dependency, pg);
    }

    private static NpgsqlConnectionStringBuilder PostgresTarget(NodeOptions? options)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(options?.Postgres.ConnectionString ?? "");
        }
        catch (ArgumentException)
        {
            return new NpgsqlConnectionStringBuilder();
        }
    }

    /// <summary>"The setting Node:Port is 'abc', which is not a whole number", with every place it can be set.</summary>
    private static NodeStartRefusedException BadValue(string key, string value, string type, Exception cause)
    {
        var expected = type switch
        {
            "System.Int32" or "System.UInt16" or "System.Int64" or "System.UInt32" => "a whole number",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration such as 00:05:00 (hours:minutes:seconds)",
            "System.Double" => "a number",
            _ => $"a {type.Split('.').Last()}",
        };
        var places = new List<string>();
        if (NodeCommandLine.Switches.FirstOrDefault(s => s.Value.Equals(key, StringComparison.OrdinalIgnoreCase)).Key is { } flag)
        {
            places.Add(flag);
        }
        places.Add($"the environment variable {key.Replace(":", "__", StringComparison.Ordinal)}");
        places.Add("appsettings.json");
        return new NodeStartRefusedException(
            $"The setting {key} is '{value}', which is not {expected}. Correct it where it is set: {string.Join(", ", places)}.",
            NodeStartRefusedException.Settings, cause);
    }

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }
                yield break;
            }
        }
    }

    private static Exception Innermost(Exception ex) => Chain(ex).Last();

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();
}
