namespace Federation.Core.Identity;

/// <summary>
/// When the node key's certificate needs renewing. Peers refuse what a key signs after its
/// certificate ends, so a node nobody rotated for a year falls silent to every peer at once;
/// the operator hears of it a month ahead, every day, wherever they look (the log, solnet
/// key show, the dashboard's Keys page, a metric), and loudly once it has ended.
/// </summary>
public static class KeyRenewal
{
    /// <summary>How long before the end the operator is reminded.</summary>
    public static readonly TimeSpan Ahead = TimeSpan.FromDays(30);

    /// <summary>What to tell the operator about a certificate that ends at <paramref name="notAfter"/>; null while it is far off.</summary>
    public static string? Reminder(DateTimeOffset notAfter, DateTimeOffset now)
    {
        if (now >= notAfter)
        {
            return $"the node key's certificate ended on {notAfter:yyyy-MM-dd HH:mm}Z: peers refuse what this node signs; rotate now (solnet key rotate --network-key FILE)";
        }
        if (notAfter - now > Ahead)
        {
            return null;
        }
        var days = (int)Math.Floor((notAfter - now).TotalDays);
        var left = days switch { 0 => "less than a day", 1 => "1 day", _ => $"{days} days" };
        return $"the node key's certificate ends on {notAfter:yyyy-MM-dd HH:mm}Z, in {left}: peers will refuse what this node signs after that; rotate before then (solnet key rotate --network-key FILE)";
    }
}
