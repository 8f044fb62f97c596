using System.Security.Cryptography;
using System.Text;
using Federation.Core;

namespace Federation.Node.Security;

/// <summary>The operator's token: kept in the data folder, compared in constant time.</summary>
public sealed class OperatorToken
{
    private readonly byte[] _hash;

    public OperatorToken(Microsoft.Extensions.Options.IOptions<NodeOptions> options)
    {
        var dir = options.Value.ResolvedDataDir;
        Directory.CreateDirectory(dir);
        Path = System.IO.Path.Combine(dir, "operator.token");
        if (!File.Exists(Path))
        {
            var tmp = Path + ".tmp";
            File.WriteAllText(tmp, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            File.Move(tmp, Path);
        }
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(File.ReadAllText(Path).Trim()));
    }

    public string Path { get; }

    public bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(_hash, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
}
