using Federation.Core.Storage;
using Federation.Node.Security;
using Federation.Storage;


namespace Federation.Node.Hosting;

/// <summary>
/// Operator commands run against a node's data folder without starting it:
/// <c>token create|list|revoke|sign-out|rotate-operator</c> and <c>audit</c>. Each token
/// command is written to the audit log, as the same operation over gRPC is.
/// </summary>
public static class AdminCommands
{
    public const string Usage = """
        federation-node token create --data DIR --holder NAME --role delegate|organiser|operator
        federation-node token list   --data DIR
        federation-node token revoke ID --data DIR
        federation-node token sign-out ID --data DIR      (ends every dashboard session of the token)
        federation-node token rotate-operator --data DIR  (a new operator token; every operator session ends)
        federation-node audit        --data DIR [--last N]
        """;

    public static bool Handles(string[] args) => args.Length > 0 && args[0] is "token" or "audit";

    /// <summary>Runs a command; a malformed one prints what is wrong and the usage (exit code 2).</summary>
    public static async Task<int> RunFromCommandLineAsync(string[] args)
    {
        try
        {
            return await RunAsync(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message + "\n" + Usage);
            return 2;
        }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var words = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        var flags = args.Skip(words.Count).ToArray();
        var options = NodeCommandLine.ReadOptions(flags);
        string? Flag(string name) => flags.SkipWhile(f => f != name).Skip(1).FirstOrDefault();
        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            Console.Error.WriteLine("Which node? Pass --data DIR (the node's data folder).\n" + Usage);
            return 2;
        }
        if (options.Database.Equals(Stores.Sqlite, StringComparison.OrdinalIgnoreCase) && !File.Exists(Path.Combine(options.ResolvedDataDir, "node.db")))
        {
            Console.Error.WriteLine($"No node database in {options.ResolvedDataDir}. Start the node once first.");
            return 2;
        }
        using var store = Stores.Open(options);
        var tokens = new DelegateTokens(store);
        // Whoever runs these can read the data folder: the operator, named by their login.
        var who = $"admin command ({Environment.UserName})";
        Task Audit(string action, string? objectId, string outcome) =>
            store.WriteAsync(tx => tx.InsertAudit(who, "operator", action, objectId, outcome));
        switch (words)
        {
            case ["token", "create"]:
                var role = Flag("--role") switch
                {
                    "delegate" => Role.Delegate,
                    "organiser" or "organizer" => Role.Organiser,
                    "operator" => Role.Operator,
                    var other => throw new ArgumentException($"--role must be delegate, organiser or operator (got '{other}')."),
                };
                var tokenName = Flag("--holder") ?? throw new ArgumentException("--holder (who the token is for) is required.");
                var (token, record) = await tokens.CreateAsync(tokenName, role);
                await Audit("token create", record.Id, "ok");
                Console.WriteLine($"Token for '{record.Name}' ({DelegateRoles.Name(record.Role)}), id {record.Id}:");
                Console.WriteLine(token);
                Console.WriteLine("It is shown only now: the node keeps only its hash. Give it to the delegate over a safe channel.");
                return 0;
            case ["token", "list"]:
                await Audit("token list", null, "ok");
                foreach (var t in store.ListTokens())
                {
                    Console.WriteLine($"{t.Id}  {DelegateRoles.Name(t.Role),-9}  {t.Name}  created {t.CreatedAt:u}{(t.RevokedAt is { } r ? $", revoked {r:u}" : "")}");
                }
                return 0;
            case ["token", "revoke", var id]:
                var revoked = await tokens.RevokeAsync(id);
                await Audit("token revoke", id, revoked ? "ok" : "NotFound");
                Console.WriteLine(revoked ? $"Token {id} revoked; it stops working at once." : $"No active token {id}.");
                return revoked ? 0 : 3;
            case ["token", "sign-out", var id]:
                var ended = await tokens.EndSessionsAsync(id);
                await Audit("token sign-out", id, ended ? "ok" : "NotFound");
                Console.WriteLine(ended ? $"Every dashboard session of token {id} is signed out; the token still works." : $"No active token {id}.");
                return ended ? 0 : 3;
            case ["token", "rotate-operator"]:
                var path = Path.Combine(options.ResolvedDataDir, "operator.token");
                OperatorToken.Write(path);
                await Audit("token rotate-operator", null, "ok");
                Console.WriteLine($"A new operator token is in {path}. The old one stopped working, and every operator session and stream opened with it ends.");
                return 0;
            case ["audit"]:
                var last = int.TryParse(Flag("--last"), out var n) ? n : 50;
                foreach (var e in store.ListAudit(last).Reverse())
                {
                    Console.WriteLine($"{e.At:u}  {e.Who} ({e.Role})  {e.Action}  {e.ObjectId ?? "-"}  {e.Outcome}");
                }
                return 0;
            default:
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }
}
