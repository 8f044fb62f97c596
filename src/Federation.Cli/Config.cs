namespace Federation.Cli;

/// <summary>
/// solnet's config file: "key = value" lines (node, token, data, fingerprint), by default
/// ~/.config/solnet/config, readable only by its owner because it holds a token.
/// Flags beat environment variables, which beat the file.
/// </summary>
public sealed class Config
{
    private readonly Dictionary<string, string> _values;

    private Config(string path, Dictionary<string, string> values)
    {
        Path = path;
        _values = values;
    }

    public string Path { get; }

    public static string DefaultPath =>
        System.IO.Path.Combine(Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x
            ? x : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"), "solnet", "config");

    public static Config Load(string? path)
    {
        path ??= Environment.GetEnvironmentVariable("SOLNET_CONFIG") ?? DefaultPath;
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(path))
        {
            foreach (var line in File.ReadAllLines(path))
            {
                var text = line.Trim();
                if (text.Length == 0 || text.StartsWith('#'))
                {
                    continue;
                }
                var eq = text.IndexOf('=');
                if (eq <= 0)
                {
                    throw new UsageException($"{path}: '{text}' is not a 'key = value' line.");
                }
                values[text[..eq].Trim()] = text[(eq + 1)..].Trim();
            }
        }
        return new Config(path, values);
    }

    public string? Get(string key) => _values.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

    public void Set(string key, string value)
    {
        if (key is not ("node" or "token" or "data" or "fingerprint"))
        {
            throw new UsageException($"'{key}' is not a setting: node, token, data or fingerprint.");
        }
        _values[key] = value;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        PrivateFile.WriteAllText(Path, string.Concat(_values.Select(kv => $"{kv.Key} = {kv.Value}{Environment.NewLine}")));
    }

    /// <summary>The settings, with the token shortened so it can be shown on screen.</summary>
    public IEnumerable<KeyValuePair<string, string>> Describe() =>
        _values.Select(kv => KeyValuePair.Create(kv.Key, kv.Key == "token" ? kv.Value[..Math.Min(6, kv.Value.Length)] + "…" : kv.Value));
}
