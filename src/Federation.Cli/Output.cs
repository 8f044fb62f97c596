using Google.Protobuf;
using Google.Protobuf.Reflection;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Federation.Cli;

/// <summary>
/// One column of a table: its heading and how a row's cell reads. A column with a
/// <paramref name="Drop"/> rank may be left out when the table cannot fit the terminal
/// otherwise, the highest rank first (issue 17, item 6); --json always has every field.
/// </summary>
public sealed record Column<T>(string Heading, Func<T, string> Cell, int Drop = 0);

/// <summary>
/// How results reach the user: plain text and tables for people, --json for scripts,
/// --field for one value. Tables carry no colour, so they read the same in a terminal,
/// in a file and under NO_COLOR.
/// </summary>
public sealed class Output(bool json, string? field)
{
    // Every field, even at its default (0, false, ""), so a script finds the same keys every time.
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    private IAnsiConsole? _console;
    private IAnsiConsole? _errors;

    public bool Json => json;

    /// <summary>The one field --field asks for, or null.</summary>
    public string? Field => @field;

    /// <summary>Only data is printed (--json or --field): no remarks for people.</summary>
    public bool Quiet => json || @field is not null;

    /// <summary>Standard output for people. Redirected, it does not wrap: a line stays one line for grep.</summary>
    public IAnsiConsole Console => _console ??= Create(System.Console.Out, System.Console.IsOutputRedirected);

    private IAnsiConsole Errors => _errors ??= Create(System.Console.Error, System.Console.IsErrorRedirected);

    private static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        // COLUMNS, when set, is the width asked for, as for ls: `COLUMNS=100 solnet peers | less`.
        if (Columns() is { } width)
        {
            console.Profile.Width = width;
        }
        else if (redirected)
        {
            console.Profile.Width = 4096;
        }
        return console;
    }

    private static int? Columns() =>
        int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 20 ? n : null;

    public static string ToJson(IMessage message) => Formatter.Format(message);

    // For the few results that are not one protobuf message; text as typed ("£900"), not \u-escaped.
    private static readonly System.Text.Json.JsonSerializerOptions PlainJson = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string ToJson(object value) => System.Text.Json.JsonSerializer.Serialize(value, PlainJson);

    public void Line(string text) => System.Console.Out.WriteLine(text);

    /// <summary>Warnings go to standard error, even with --json or --field, so a script still reads only data and a person still sees them.</summary>
    public static void Warn(IEnumerable<string> warnings)
    {
        foreach (var w in warnings)
        {
            System.Console.Error.WriteLine($"solnet: warning: {w}");
        }
    }

    public void Print<T>(T message, Func<T, string> human) where T : IMessage
    {
        if (PrintedAsData(message))
        {
            return;
        }
        Line(human(message));
    }

    public void Print<T>(T message, Func<T, IRenderable> human) where T : IMessage
    {
        if (PrintedAsData(message))
        {
            return;
        }
        Console.Write(human(message));
    }

    /// <summary>A list as a table for people, a JSON array for scripts, or one field per line.</summary>
    public void List<T>(IReadOnlyList<T> items, string empty, params Column<T>[] columns) where T : IMessage
    {
        if (field is not null)
        {
            foreach (var item in items)
            {
                Line(FieldOf(item));
            }
            return;
        }
        if (json)
        {
            Line("[" + string.Join(",", items.Select(i => Formatter.Format(i))) + "]");
            return;
        }
        if (items.Count == 0)
        {
            Line(empty);
            return;
        }
        Table(items, columns);
    }

    /// <summary>A table as wide as the terminal: columns with a drop rank left out if it cannot fit, and said so.</summary>
    public void Table<T>(IEnumerable<T> items, params Column<T>[] columns)
    {
        var (table, dropped) = Fit(items, Console.Profile.Width, columns);
        Console.Write(table);
        if (dropped.Count > 0)
        {
            // Through the console, so the note wraps at the same width as the table.
            Console.Write(new Text($"(Left out to fit {Console.Profile.Width} columns: {string.Join(", ", dropped)}. A wider terminal, or --json, shows them.)\n"));
        }
    }

    /// <summary>
    /// The table for <paramref name="width"/> columns of text. Cells wrap at spaces, so a
    /// column needs at least its longest word; while the narrowest layout is still too wide,
    /// the droppable column of highest rank goes. What is left wraps inside its cells.
    /// </summary>
    public static (Table Table, IReadOnlyList<string> Dropped) Fit<T>(IEnumerable<T> items, int width, params Column<T>[] columns)
    {
        var rows = items.Select(item => columns.Select(c => c.Cell(item)).ToArray()).ToList();
        // A column empty in every row (no regions set, no dead letters) only takes width from the others.
        var shown = Enumerable.Range(0, columns.Length).Where(i => rows.Count == 0 || rows.Any(r => r[i].Length > 0)).ToList();
        var dropped = new List<string>();
        int Narrowest(int i) => rows.Select(r => r[i]).Append(columns[i].Heading)
            .SelectMany(text => text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries)).Select(w => w.Length).DefaultIfEmpty(0).Max();
        // A rounded border: one rule before each column and after the last, and a space either side of each cell.
        while (shown.Sum(Narrowest) + 3 * shown.Count + 1 > width && shown.Where(i => columns[i].Drop > 0).OrderByDescending(i => columns[i].Drop).FirstOrDefault(-1) is var drop and >= 0)
        {
            shown.Remove(drop);
            dropped.Add(columns[drop].Heading);
        }
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var i in shown)
        {
            table.AddColumn(new TableColumn(new Text(columns[i].Heading)));
        }
        foreach (var row in rows)
        {
            // Text, not markup: what people typed ("[urgent]") is shown as typed.
            table.AddRow(shown.Select(i => (IRenderable)new Text(row[i])));
        }
        return (table, dropped);
    }

    /// <summary>
    /// Runs a long wait with a spinner saying what it waits for. The spinner goes where a
    /// person sees it and a script does not: to standard output at a terminal, else to
    /// standard error at a terminal, else nowhere (one line on standard error instead).
    /// </summary>
    public async Task<TResult> WaitAsync<TResult>(string what, Func<Action<string>, Task<TResult>> work)
    {
        var console = !json && !System.Console.IsOutputRedirected ? Console
            : !System.Console.IsErrorRedirected ? Errors
            : null;
        if (console is null)
        {
            System.Console.Error.WriteLine(what);
            return await work(_ => { });
        }
        return await console.Status().StartAsync(Markup.Escape(what), ctx => work(s => ctx.Status(Markup.Escape(s))));
    }

    /// <summary>Where to write lines while a wait runs: through the spinner's console, so they land above it.</summary>
    public Action<string> LinesDuringWait => !json && !System.Console.IsOutputRedirected
        ? s => Console.WriteLine(s)
        : Line;

    private bool PrintedAsData(IMessage message)
    {
        if (field is not null)
        {
            Line(FieldOf(message));
            return true;
        }
        if (json)
        {
            Line(Formatter.Format(message));
            return true;
        }
        return false;
    }

    private string FieldOf(IMessage message)
    {
        var f = message.Descriptor.FindFieldByName(field!) ?? message.Descriptor.Fields.InDeclarationOrder().FirstOrDefault(x => x.JsonName == field)
            ?? throw new UsageException($"{message.Descriptor.Name} has no field '{field}'; fields: {string.Join(", ", message.Descriptor.Fields.InFieldNumberOrder().Select(x => x.Name))}.");
        var value = f.Accessor.GetValue(message);
        return value switch
        {
            IMessage m => Formatter.Format(m),
            _ when f.IsRepeated => string.Join("\n", ((System.Collections.IEnumerable)value).Cast<object>().Select(v => v is IMessage m ? Formatter.Format(m) : $"{v}")),
            _ when f.FieldType == FieldType.Bool => value.ToString()!.ToLowerInvariant(),
            _ => $"{value}",
        };
    }
}
