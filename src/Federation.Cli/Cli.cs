using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using Grpc.Core;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Federation.Cli;

/// <summary>What solnet's exit code tells a script.</summary>
/// <summary>Nothing answers at the node's address: said with the address, and how to find the right one.</summary>
public sealed class NodeNotRunningException(string address) : Exception(
    $"No node answers at {address}: it is not running, or it listens on another address. "
    + "Start it (it prints its gRPC address when it starts), or check --node or --data.");

public static class ExitCodes
{
    public const int Done = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Refused = 3;
    public const int Unreachable = 4;
    public const int NotYet = 5;

    public const string Help = """
        Exit codes:
          0  done
          1  solnet itself failed (a bug: please report it)
          2  usage: the command line, a setting or an input file needs fixing; nothing was sent
          3  the node refused (the message says which rule or what is missing; nothing changed),
             or solnet refused a backup to restore (wrong passphrase, damaged file, a folder not empty)
          4  the node could not be reached or failed, or is not the node the fingerprint names
          5  --wait gave up: the node accepted the change and keeps delivering it, but the
             other node has not received it yet
        """;
}

/// <summary>A mistake on the command line or in the settings, found before anything is sent.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>solnet itself refuses, as a node would (a restore into a folder in use, a wrong passphrase); nothing was written.</summary>
public sealed class RefusedException(string message) : Exception(message);

/// <summary>--wait ran out of time; what was asked is queued and still being delivered.</summary>
public sealed class NotYetException(string message) : Exception(message);

/// <summary>The options every command takes: which node, which token, and how to print.</summary>
public static class Global
{
    public static readonly Option<string> Data = new("--data")
    {
        Description = "The node's data folder: solnet reads the node's address, fingerprint and operator.token there",
        HelpName = "DIR",
        Recursive = true,
    };

    public static readonly Option<string> Node = new("--node")
    {
        Description = "The node's address, e.g. http://127.0.0.1:5001",
        HelpName = "URL",
        Recursive = true,
    };

    public static readonly Option<string> Fingerprint = new("--fingerprint")
    {
        Description = "With --node https://…: the node's fingerprint; its TLS certificate must carry that key",
        HelpName = "FP",
        Recursive = true,
    };

    public static readonly Option<string> Token = new("--token")
    {
        Description = "A delegate token",
        HelpName = "TOKEN",
        Recursive = true,
    };

    public static readonly Option<string> Config = new("--config")
    {
        Description = "The settings file (default ~/.config/solnet/config; see `solnet config`)",
        HelpName = "FILE",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print results as JSON for scripts: one object, or an array for lists (no colours, no tables)",
        Recursive = true,
    };

    public static readonly Option<string> Field = new("--field")
    {
        Description = "Print only this field of the result (e.g. id, fingerprint, terms_hash); for a list, one line per item",
        HelpName = "NAME",
        Recursive = true,
    };

    public static IEnumerable<Option> All => [Data, Node, Fingerprint, Token, Config, Json, Field];
}

/// <summary>Builds solnet's commands and runs one command line.</summary>
public static class Cli
{
    private const string About = """
        solnet — talk to your network's federation node.

        Choose the node with --data DIR (its data folder), or --node URL and --token TOKEN,
        or SOLNET_DATA / SOLNET_NODE / SOLNET_TOKEN / SOLNET_FINGERPRINT, or the config file
        (`solnet config set node URL`). Flags beat environment variables, which beat the file.
        `solnet COMMAND --help` explains each command.
        """;

    public static RootCommand Build()
    {
        var root = new RootCommand(About);
        foreach (var option in Global.All)
        {
            root.Options.Add(option);
        }
        foreach (var command in NodeCli.Commands().Concat(BackupCli.Commands()).Concat(BundleCli.Commands()).Concat(NetworkKeyCli.Commands()).Concat(CallOutCli.Commands()).Concat(FightCli.Commands()))
        {
            root.Subcommands.Add(command);
        }
        // Every command's --help ends with what the exit codes mean.
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is HelpAction action)
        {
            help.Action = new HelpWithExitCodes(action);
        }
        return root;
    }

    private sealed class HelpWithExitCodes(HelpAction help) : SynchronousCommandLineAction
    {
        // Like help itself: `solnet fight draft --help` shows help even though --title is missing.
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            help.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(ExitCodes.Help);
            return ExitCodes.Done;
        }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            return ParseFailed(root, args, parse);
        }
        try
        {
            // Exceptions come back here rather than to the library's handler, so each gets its exit code.
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException ex)
        {
            return Fail(ExitCodes.Usage, $"{ex.Message}\nRun '{CommandPath(parse)} --help' for usage.");
        }
        catch (RefusedException ex)
        {
            return Fail(ExitCodes.Refused, ex.Message);
        }
        catch (NotYetException ex)
        {
            return Fail(ExitCodes.NotYet, ex.Message);
        }
        catch (RpcException ex) when (ServerPin.In(ex) is { } mismatch)
        {
            return Fail(ExitCodes.Unreachable, mismatch.Message);
        }
        catch (NodeNotRunningException ex)
        {
            return Fail(ExitCodes.Unreachable, ex.Message);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            return Fail(ExitCodes.Refused, $"The node does not know this command: it runs an older version than this solnet. Upgrade the node. ({ex.StatusCode})");
        }
        catch (RpcException ex)
        {
            // Unavailable, DeadlineExceeded, Internal, Unknown: the node could not be reached or broke.
            // Everything else is a deliberate refusal whose message says why.
            var code = ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown
                ? ExitCodes.Unreachable : ExitCodes.Refused;
            return Fail(code, $"{ex.Status.Detail} ({ex.StatusCode})");
        }
        catch (IOException ex)
        {
            return Fail(ExitCodes.Usage, ex.Message);
        }
        catch (UnauthorizedAccessException ex)
        {
            return Fail(ExitCodes.Usage, ex.Message);
        }
    }

    /// <summary>
    /// Nothing listens at the node's address (it is not running): gRPC says only "Error
    /// connecting to subchannel", and the address is not in it.
    /// </summary>
    private static bool NotListening(RpcException ex) =>
        ex.StatusCode == StatusCode.Unavailable
        && ex.Status.DebugException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused }
            or System.Net.Http.HttpRequestException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } };

    private static int ParseFailed(RootCommand root, string[] args, ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (command.Action is null && command.Subcommands.Count > 0 && parse.Tokens.All(t => t.Type is not TokenType.Argument))
        {
            // `solnet fight`: a group without its command. Show what it offers rather than a bare error.
            root.Parse([.. args, "--help"]).Invoke();
            Console.Error.WriteLine(command is RootCommand
                ? "solnet: give one of the commands above."
                : $"solnet: `{CommandPath(parse)}` needs one of the commands above.");
            return ExitCodes.Usage;
        }
        // "Required command was not provided" only repeats a more telling error, such as a misspelt command.
        var requiredCommand = new RootCommand { new Command("x") }.Parse([]).Errors.Select(e => e.Message).FirstOrDefault();
        var errors = parse.Errors.Where(e => e.Message != requiredCommand).ToList();
        foreach (var error in errors.Count > 0 ? errors : parse.Errors)
        {
            Console.Error.WriteLine($"solnet: {error.Message}");
        }
        Console.Error.WriteLine($"Run '{CommandPath(parse)} --help' for usage.");
        return ExitCodes.Usage;
    }

    private static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"solnet: {message}");
        return code;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult c; r = c.Parent)
        {
            names.Add(c.Command is RootCommand ? "solnet" : c.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }

    // ---- Building blocks for the commands --------------------------------------------

    public static Command Group(string name, string description, params Command[] subcommands)
    {
        var group = new Command(name, description);
        foreach (var sub in subcommands)
        {
            group.Subcommands.Add(sub);
        }
        return group;
    }

    /// <summary>A command with its options and arguments, and what it does.</summary>
    public static Command Cmd(string name, string description, Symbol[] symbols, Func<Session, Task> run)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option o:
                    command.Options.Add(o);
                    break;
                case Argument a:
                    command.Arguments.Add(a);
                    break;
            }
        }
        command.SetAction(async (parse, cancel) =>
        {
            var session = new Session(parse, cancel);
            try
            {
                await run(session);
            }
            catch (RpcException ex) when (NotListening(ex))
            {
                throw new NodeNotRunningException(session.Address ?? "the node's address");
            }
            return ExitCodes.Done;
        });
        return command;
    }

    public static Option<string> Text(string name, string description, string helpName = "TEXT", bool required = false) =>
        new(name) { Description = description, HelpName = helpName, Required = required };

    /// <summary>A flag given as often as needed: --demand A --demand B.</summary>
    public static Option<string[]> Many(string name, string description, string helpName = "TEXT") =>
        new(name) { Description = description + " (repeat for more)", HelpName = helpName };

    public static Option<bool> Switch(string name, string description) => new(name) { Description = description };

    public static Option<Timestamp?> When(string name, string description) => new(name)
    {
        Description = description + "; without Z or an offset, a time on the node's clocks (Node:TimeZone)",
        HelpName = "TIME",
        CustomParser = r => ParseTime(name, r),
    };

    public static Option<uint?> Whole(string name, string description, string helpName = "N") => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = r =>
        {
            var v = r.Tokens.Single().Value;
            if (uint.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                return n;
            }
            r.AddError($"{name} must be a whole number, not '{v}'.");
            return null;
        },
    };

    public static Argument<string> Arg(string name, string description) => new(name) { Description = description };

    /// <summary>A word from a fixed list; anything else is a usage error naming the list.</summary>
    public static Argument<string> Choice(string name, string description, params string[] choices)
    {
        var argument = new Argument<string>(name) { Description = $"{description}: {string.Join(", ", choices)}" };
        argument.CompletionSources.Add(choices);
        argument.Validators.Add(r => CheckChoices(r, Article(name.ToLowerInvariant()), choices));
        return argument;
    }

    public static Option<string> ChoiceOption(string name, string description, string helpName, params string[] choices)
    {
        var option = new Option<string>(name) { Description = $"{description}: {string.Join(", ", choices)}", HelpName = helpName };
        option.CompletionSources.Add(choices);
        option.Validators.Add(r => CheckChoices(r, Article(name.TrimStart('-')), choices));
        return option;
    }

    public static Option<string[]> ManyChoices(string name, string description, params string[] choices)
    {
        var option = new Option<string[]>(name) { Description = $"{description}: {string.Join(", ", choices)} (repeat for more)", HelpName = "TYPE" };
        option.CompletionSources.Add(choices);
        option.Validators.Add(r => CheckChoices(r, Article(name.TrimStart('-')), choices));
        return option;
    }

    private static string Article(string noun) => ("aeiou".Contains(noun[0]) ? "an " : "a ") + noun;

    /// <summary>One line naming the word and the list, rather than the library's list on many lines.</summary>
    private static void CheckChoices(SymbolResult r, string what, string[] choices)
    {
        foreach (var token in r.Tokens.Where(t => t.Type == TokenType.Argument && !choices.Contains(t.Value)))
        {
            r.AddError($"'{token.Value}' is not {what}: {string.Join(", ", choices)}.");
        }
    }

    /// <summary>
    /// Reads a time as typed. One without Z or an offset is read here as UTC, and
    /// <see cref="Session.Get(Option{Timestamp})"/> then reads it on the node's clocks: the
    /// node's zone is known only once the node is asked, after parsing.
    /// </summary>
    private static Timestamp? ParseTime(string name, ArgumentResult r)
    {
        var v = r.Tokens.Single().Value;
        if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            return Timestamp.FromDateTimeOffset(t);
        }
        r.AddError($"{name} '{v}' is not a date/time (try 2026-12-01T17:00:00Z).");
        return null;
    }

    /// <summary>Whether a typed time says which instant it is (Z, or an offset such as +01:00), rather than a time on local clocks.</summary>
    public static bool NamesItsOffset(string typed) =>
        System.Text.RegularExpressions.Regex.IsMatch(typed.Trim(), @"(Z|[+-]\d{2}(:?\d{2})?)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)
        && typed.Contains('T', StringComparison.OrdinalIgnoreCase) || typed.Trim().EndsWith('Z');
}
