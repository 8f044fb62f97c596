using System.Security.Cryptography;
using System.Text;
using Federation.Core;

namespace Federation.Node.Security;

/// <summary>
/// The operator's token: kept in the data folder, compared in constant time. Rotating it
/// (<see cref="Rotate"/>, or <c>federation-node token rotate-operator</c> while the node
/// runs) ends every operator session and stream opened with the old one (issue 15, item 1).
/// </summary>
public sealed class OperatorToken
{
    private readonly Lock _gate = new();
    private byte[] _hash = [];
    private DateTime _readAt;

    public OperatorToken(Microsoft.Extensions.Options.IOptions<NodeOptions> options)
    {
        var dir = options.Value.ResolvedDataDir;
        Directory.CreateDirectory(dir);
        Path = System.IO.Path.Combine(dir, "operator.token");
        if (!File.Exists(Path))
        {
            Write(Path);
        }
        Load();
    }

    public string Path { get; }

    public bool Matches(string presented)
    {
        var hash = Current();
        return CryptographicOperations.FixedTimeEquals(hash, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
    }

    /// <summary>
    /// Names the current token without revealing it: a dashboard session records it at
    /// sign-in and ends when it no longer matches, that is when the token was rotated.
    /// </summary>
    public string Generation => Convert.ToHexStringLower(SHA256.HashData([.. "session:"u8, .. Current()]))[..32];

    /// <summary>Replaces the token with a new one and returns it; the old one stops working at once.</summary>
    public string Rotate()
    {
        lock (_gate)
        {
            var token = Write(Path);
            Load();
            return token;
        }
    }

    /// <summary>Writes a new token to <paramref name="path"/>, readable only by the node's user from the moment it exists.</summary>
    public static string Write(string path)
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var tmp = path + ".tmp";
        File.Delete(tmp);
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new StreamWriter(tmp, Encoding.ASCII, create))
        {
            file.Write(token + "\n");
        }
        File.Move(tmp, path, overwrite: true);
        return token;
    }

    // The file is the truth: a rotation by the admin command, in another process, takes
    // effect here at the next call. One stat per call is cheap next to the call.
    private byte[] Current()
    {
        lock (_gate)
        {
            try
            {
                if (File.GetLastWriteTimeUtc(Path) != _readAt)
                {
                    Load();
                }
            }
            catch (IOException)
            {
                // The file is gone or unreadable: no presented token matches (fail closed).
                _hash = [];
            }
            return _hash;
        }
    }

    private void Load()
    {
        _readAt = File.GetLastWriteTimeUtc(Path);
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(File.ReadAllText(Path).Trim()));
    }
}
