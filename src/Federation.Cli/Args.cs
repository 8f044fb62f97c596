namespace Federation.Cli;

/// <summary>Flags and positional words of one command line: "--flag value", repeatable flags, bare switches.</summary>
public sealed class Args
{
    private static readonly HashSet<string> Switches = ["--json", "--cancel", "--help", "--public", "--open", "--closed", "--issued", "--all"];
    private readonly Dictionary<string, List<string>> _flags = new();

    public Args(IEnumerable<string> argv)
    {
        var list = argv.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                if (Switches.Contains(a))
                {
                    Add(a, "true");
                }
                else if (i + 1 < list.Count)
                {
                    Add(a, list[++i]);
                }
                else
                {
                    throw new UsageException($"{a} needs a value.");
                }
            }
            else
            {
                Words.Add(a);
            }
        }
    }

    public List<string> Words { get; } = [];

    private void Add(string flag, string value)
    {
        if (!_flags.TryGetValue(flag, out var values))
        {
            _flags[flag] = values = [];
        }
        values.Add(value);
    }

    public string? Get(string flag) => _flags.TryGetValue(flag, out var v) ? v[^1] : null;

    public IReadOnlyList<string> All(string flag) => _flags.TryGetValue(flag, out var v) ? v : [];

    public bool Has(string flag) => _flags.ContainsKey(flag);

    public string Require(string flag) => Get(flag) ?? throw new UsageException($"{flag} is required.");

    public string Word(int index, string name) =>
        index < Words.Count ? Words[index] : throw new UsageException($"Missing {name}.");
}

public sealed class UsageException(string message) : Exception(message);
