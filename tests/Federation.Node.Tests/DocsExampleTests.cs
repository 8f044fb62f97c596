using Federation.Testing;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Federation.Node.Tests;

/// <summary>
/// The user guide's shell examples (README.md, docs/delegates.md and docs/operators.md, each on its own), pasted in
/// order into bash in an empty folder, as a reader would: so the guide cannot drift from
/// what the software does.
/// </summary>
/// <remarks>
/// How a guide marks its examples (docs/contributing.md says the same):
/// <list type="bullet">
/// <item>Every <c>```sh</c> block runs, in order, in one bash session, unless the line before
/// it is <c>&lt;!-- docs-test: skip, WHY --&gt;</c>.</item>
/// <item>After <c>&lt;!-- docs-test: ctrl-c --&gt;</c>, each command runs until Ctrl-C, which
/// the test presses after 3 seconds.</item>
/// <item>A command followed by comment lines <c># solnet: MESSAGE</c> (continued on lines
/// <c>#   …</c>) must fail with that message; every other command must succeed.</item>
/// <item>A command ending in a comment <c># "TEXT"</c> must print TEXT, where <c>…</c> stands
/// for anything. Other comments are prose and are not checked.</item>
/// <item><c>dotnet run --project src/Federation.Node -- …</c> starts a node in the
/// background, as in a terminal of its own, and replaces a node already running on that
/// data folder; <c>dotnet run --project src/Federation.Cli -- …</c> runs the built solnet.
/// A <c>dotnet</c> first on PATH does both, so nothing is rebuilt.</item>
/// <item>Ports 5001 and 5002 become free loopback ports (with their dashboard ports, + 3000).</item>
/// </list>
/// The nodes get an HTTP proxy that leads nowhere on loopback, so the webhook example's
/// POST to example.org never leaves the machine.
/// </remarks>
public sealed class DocsExampleTests(ITestOutputHelper output)
{
    [Fact]
    public Task TheReadmeExamplesRunInOrderOnTwoFreshNodes() => RunGuideAsync("README.md");

    [Fact]
    public Task TheDelegatesGuideExamplesRunInOrderOnTwoFreshNodes() => RunGuideAsync(Path.Combine("docs", "delegates.md"));

    [Fact]
    public Task TheOperatorsGuideExamplesRunInOrderOnAFreshNode() => RunGuideAsync(Path.Combine("docs", "operators.md"));

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan CtrlCAfter = TimeSpan.FromSeconds(3);

    private async Task RunGuideAsync(string guide)
    {
        var commands = Parse(guide, await File.ReadAllLinesAsync(Path.Combine(Built.Root, guide)));
        Assert.NotEmpty(commands);

        var work = Directory.CreateTempSubdirectory("fed-docs-").FullName;
        var nodes = new Dictionary<string, NodeProcess>();   // by data folder: the node running on it
        var started = new List<NodeProcess>();
        var ports = new Dictionary<string, string>();
        foreach (var documented in new[] { "5001", "5002" })
        {
            ports[documented] = FreePortWithDashboard(ports.Values).ToString();
        }
        var nodeEnvironment = new Dictionary<string, string>
        {
            ["HTTP_PROXY"] = $"http://127.0.0.1:{Ports.Free()}",
            ["HTTPS_PROXY"] = $"http://127.0.0.1:{Ports.Free()}",
            ["NO_PROXY"] = "127.0.0.1,localhost",
        };
        using var bash = StartBash(work);
        var bashErrors = new StringBuilder();
        bash.ErrorDataReceived += (_, e) => { lock (bashErrors) { bashErrors.AppendLine(e.Data); } };
        bash.BeginErrorReadLine();
        try
        {
            await bash.StandardInput.WriteAsync(Prelude);
            for (var n = 0; n < commands.Count; n++)
            {
                var command = commands[n];
                var text = Regex.Replace(command.Text, @"\b(5001|5002)\b", m => ports[m.Value]);
                var clock = Stopwatch.StartNew();
                var runner = command.CtrlC ? "__docs_ctrl_c" : "__docs_run";
                await bash.StandardInput.WriteAsync($"{runner} {n} {(int)CtrlCAfter.TotalSeconds} <<'__DOCS_{n}'\n{text}\n__DOCS_{n}\n");
                await bash.StandardInput.FlushAsync();

                using var timeout = new CancellationTokenSource(CommandTimeout);
                string? line;
                try
                {
                    do
                    {
                        line = await bash.StandardOutput.ReadLineAsync(timeout.Token);
                    }
                    while (line is not null && line != $"done {n}");
                }
                catch (OperationCanceledException)
                {
                    line = null;
                }
                if (line is null)
                {
                    // What the command had printed so far, to see where it stopped.
                    string Printed(string stream) => File.Exists(Path.Combine(work, ".docs-test", $"{stream}.{n}"))
                        ? File.ReadAllText(Path.Combine(work, ".docs-test", $"{stream}.{n}")) : "(nothing)";
                    lock (bashErrors)
                    {
                        Assert.Fail($"{command}\ndid not finish within {CommandTimeout.TotalSeconds} s (or bash ended).\n{bashErrors}"
                            + $"\nIts output: {Printed("out")}\nIts errors: {Printed("err")}");
                    }
                }

                var result = new Result(
                    int.Parse(await File.ReadAllTextAsync(Path.Combine(work, ".docs-test", $"rc.{n}"))),
                    await File.ReadAllTextAsync(Path.Combine(work, ".docs-test", $"out.{n}")),
                    await File.ReadAllTextAsync(Path.Combine(work, ".docs-test", $"err.{n}")));
                await StartNodesAsync(work, nodes, started, nodeEnvironment);
                output.WriteLine($"{clock.Elapsed.TotalSeconds,5:0.0} s  {command.Guide}:{command.Line}");
                Check(command, result, nodes.Values);
            }
        }
        finally
        {
            if (!bash.HasExited)
            {
                bash.Kill(entireProcessTree: true);
            }
            foreach (var node in started)
            {
                await node.DisposeAsync();
            }
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // not worth failing a test over
            }
        }
    }

    /// <summary>One command of a guide: its text as a reader pastes it, and what the guide says it shows.</summary>
    private sealed record Command(string Guide, int Line, string Text, bool CtrlC)
    {
        public string? Error { get; set; }
        public string? Output { get; set; }

        public override string ToString() => $"{Guide}:{Line}: {Text}";
    }

    private sealed record Result(int ExitCode, string Out, string Error);

    private static readonly Regex Fence = new(@"^(\s*)```(\S*)\s*$");
    private static readonly Regex Marker = new(@"^<!--\s*docs-test:\s*([a-z-]+)");
    private static readonly Regex HereDocument = new(@"<<-?\s*'?([A-Za-z_]+)'?");
    private static readonly Regex ShownOutput = new("""\s#\s+"(.+)"\s*$""");

    private static List<Command> Parse(string guide, string[] lines)
    {
        var commands = new List<Command>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (Fence.Match(lines[i]) is not { Success: true } open)
            {
                continue;
            }
            var indent = open.Groups[1].Value.Length;
            var body = new List<(int Line, string Text)>();
            for (i++; i < lines.Length && !Fence.IsMatch(lines[i]); i++)
            {
                body.Add((i + 1, lines[i].Length >= indent ? lines[i][indent..] : lines[i].TrimStart()));
            }
            if (open.Groups[2].Value != "sh")
            {
                continue;
            }
            var before = lines.Take(i - body.Count - 1).LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
            var marker = Marker.Match(before) is { Success: true } m ? m.Groups[1].Value : "";
            switch (marker)
            {
                case "skip":
                    continue;
                case "" or "ctrl-c":
                    break;
                default:
                    throw new InvalidOperationException($"{guide}: unknown docs-test marker '{before}'.");
            }
            commands.AddRange(Split(guide, body, ctrlC: marker == "ctrl-c"));
        }
        return commands;
    }

    /// <summary>A block's commands: lines joined where they end in \, here-documents kept whole, comments read for expectations.</summary>
    private static IEnumerable<Command> Split(string guide, List<(int Line, string Text)> body, bool ctrlC)
    {
        Command? last = null;
        var inError = false;
        for (var k = 0; k < body.Count; k++)
        {
            var (line, text) = body[k];
            var trimmed = text.Trim();
            if (trimmed.Length == 0)
            {
                inError = false;
                continue;
            }
            if (trimmed.StartsWith('#'))
            {
                if (trimmed.StartsWith("# solnet:") && last is not null)
                {
                    last.Error = trimmed[2..];
                    inError = true;
                }
                else if (inError && trimmed.StartsWith("#  "))
                {
                    last!.Error += " " + trimmed[1..].Trim();
                }
                else
                {
                    inError = false;
                }
                continue;
            }
            inError = false;
            var command = new StringBuilder(text);
            while (text.EndsWith('\\') && k + 1 < body.Count)
            {
                text = body[++k].Text;
                command.Append('\n').Append(text);
            }
            if (HereDocument.Match(command.ToString()) is { Success: true } here)
            {
                while (k + 1 < body.Count)
                {
                    var next = body[++k].Text;
                    command.Append('\n').Append(next);
                    if (next.Trim() == here.Groups[1].Value)
                    {
                        break;
                    }
                }
            }
            last = new Command(guide, line, command.ToString(), ctrlC);
            if (ShownOutput.Match(text) is { Success: true } shown)
            {
                last.Output = shown.Groups[1].Value;
            }
            yield return last;
        }
    }

    private static void Check(Command command, Result result, IEnumerable<NodeProcess> nodes)
    {
        string Explain(string what) =>
            $"{what}\n{command}\nexit code {result.ExitCode}\n--- standard output\n{result.Out}\n--- standard error\n{result.Error}\n"
            + string.Join('\n', nodes.Select(n => n.LogTail(20)));

        if (command.Error is { } error)
        {
            Assert.True(result.ExitCode != 0, Explain($"The guide shows this command failing with \"{error}\", but it succeeded."));
            Assert.True(Fold(result.Error).Contains(Fold(error), StringComparison.Ordinal),
                Explain($"The guide shows this command failing with \"{error}\", but it said something else."));
        }
        else if (!command.CtrlC)
        {
            Assert.True(result.ExitCode == 0, Explain("This command failed, and the guide does not say it should."));
        }
        if (command.Output is { } output)
        {
            var pattern = string.Join(".*?", output.Split('…').Select(p => Regex.Escape(Fold(p).Trim())));
            Assert.True(Regex.IsMatch(Fold(result.Out + "\n" + result.Error), pattern, RegexOptions.Singleline),
                Explain($"The guide shows this command printing \"{output}\", but it did not."));
        }
    }

    /// <summary>Runs of whitespace as one space: the guide wraps long messages over comment lines.</summary>
    private static string Fold(string text) => Regex.Replace(text, @"\s+", " ");

    /// <summary>
    /// The session's helpers. Each command's output and exit code go to files the test reads;
    /// "done N" on standard output says it has finished. Job control gives a Ctrl-C command
    /// a process group of its own, so Ctrl-C reaches solnet and not bash.
    /// </summary>
    private const string Prelude = """
        shopt -s expand_aliases
        set -m
        mkdir -p .docs-test
        __docs_run() {
          local n=$1 cmd
          cmd=$(cat)
          eval "$cmd" >".docs-test/out.$n" 2>".docs-test/err.$n" </dev/null
          echo $? >".docs-test/rc.$n"
          echo "done $n"
        }
        __docs_ctrl_c() {
          local n=$1 after=$2 cmd pid
          cmd=$(cat)
          eval "$cmd" >".docs-test/out.$n" 2>".docs-test/err.$n" </dev/null &
          pid=$!
          sleep "$after"
          kill -INT -- "-$pid" 2>/dev/null
          wait "$pid"
          echo $? >".docs-test/rc.$n"
          echo "done $n"
        }

        """;

    /// <summary>
    /// The <c>dotnet</c> a reader's commands meet first on PATH: <c>dotnet run --project
    /// src/Federation.Cli -- ARGS</c> runs the built solnet; <c>… src/Federation.Node -- ARGS</c>
    /// leaves ARGS for the test, which starts the node; anything else fails.
    /// </summary>
    private const string DotnetShim = """
        #!/bin/sh
        if [ "$1" = run ] && [ "$2" = --project ] && [ "$4" = -- ]; then
          case "$3" in
            src/Federation.Cli)
              shift 4
              # Ctrl-C works as in a reader's terminal even when this test runs under a script
              # that started it in the background, which leaves SIGINT ignored for every child.
              exec env --default-signal=INT "$DOCS_TEST_DOTNET" "$DOCS_TEST_SOLNET" "$@" ;;
            src/Federation.Node)
              shift 4
              printf '%s\0' "$@" >"$DOCS_TEST_WORK/.docs-test/node.$(date +%s%N)"
              exit 0 ;;
          esac
        fi
        echo "docs test: the guide's commands run the built programs only; not: dotnet $*" >&2
        exit 99

        """;

    private static Process StartBash(string work)
    {
        var bin = Directory.CreateDirectory(Path.Combine(work, ".docs-test", "bin")).FullName;
        var shim = Path.Combine(bin, "dotnet");
        File.WriteAllText(shim, DotnetShim);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var psi = new ProcessStartInfo("bash", ["--noprofile", "--norc"])
        {
            WorkingDirectory = work,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        psi.Environment["DOCS_TEST_DOTNET"] = DotnetPath();
        psi.Environment["DOCS_TEST_SOLNET"] = Built.CliDll;
        psi.Environment["DOCS_TEST_WORK"] = work;
        // solnet's config file (the guide sets one up) lands in the work folder, not in $HOME.
        psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(work, ".config");
        foreach (var stray in new[] { "SOLNET_CONFIG", "SOLNET_NODE", "SOLNET_TOKEN", "SOLNET_DATA", "SOLNET_FINGERPRINT" })
        {
            psi.Environment.Remove(stray);
        }
        return Process.Start(psi)!;
    }

    /// <summary>The real dotnet host, not the shim.</summary>
    private static string DotnetPath()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host)
        {
            return host;
        }
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "dotnet")).FirstOrDefault(File.Exists) ?? "dotnet";
    }

    /// <summary>
    /// Starts the nodes the last command asked for. A node started again on a data folder
    /// replaces the one running there, as a reader stops it (Ctrl-C) before starting it again.
    /// </summary>
    private static async Task StartNodesAsync(string work, Dictionary<string, NodeProcess> nodes, List<NodeProcess> started,
        Dictionary<string, string> environment)
    {
        foreach (var file in Directory.GetFiles(Path.Combine(work, ".docs-test"), "node.*").Order())
        {
            var args = (await File.ReadAllTextAsync(file)).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            File.Delete(file);
            var name = args.SkipWhile(a => a != "--name").Skip(1).FirstOrDefault() ?? "node";
            var dataDir = Path.GetFullPath(args.SkipWhile(a => a != "--data").Skip(1).FirstOrDefault() ?? Path.Combine("data", name), work);
            if (nodes.Remove(dataDir, out var running))
            {
                running.Kill();
            }
            var node = await NodeProcess.StartWithArgumentsAsync(args, work, new Dictionary<string, string>(environment));
            started.Add(node);
            nodes[node.DataDir] = node;
        }
    }

    /// <summary>A free loopback port whose dashboard port (+ 3000) is free too.</summary>
    private static int FreePortWithDashboard(IEnumerable<string> taken)
    {
        while (true)
        {
            var port = Ports.Free();
            if (port + 3000 > 65535 || taken.Contains(port.ToString()))
            {
                continue;
            }
            try
            {
                using var dashboard = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port + 3000);
                dashboard.Start();
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // taken: try another
            }
        }
    }
}
