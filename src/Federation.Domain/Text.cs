namespace Federation.Domain;

/// <summary>Checks on free text coming from people and peers.</summary>
public static class Text
{
    public const int ShortMax = 200;
    public const int LongMax = 20_000;

    /// <summary>
    /// Refuses over-long text and control characters (other than line breaks and tabs):
    /// they have no business in a demand letter and are a common way to smuggle
    /// terminal escapes into an operator's log or console.
    /// </summary>
    // Plain text only: these would be live in a careless web page or mail client.
    private static readonly string[] Active = ["<script", "</script", "<iframe", "<object", "<embed", "<svg", "javascript:", "vbscript:", "data:text/html"];

    public static void Check(string field, string? value, int max, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                throw RuleViolation.Invalid($"{field} is required.");
            }
            return;
        }
        if (value.Length > max)
        {
            throw RuleViolation.Invalid($"{field} is {value.Length} characters long; the limit is {max}.");
        }
        foreach (var c in value)
        {
            if (char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            {
                throw RuleViolation.Invalid($"{field} contains a control character (U+{(int)c:X4}); remove it and try again.");
            }
            // Bidirectional overrides can make text read differently from what it says
            // (a demand that displays reversed, a disguised link).
            if (c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069')
            {
                throw RuleViolation.Invalid($"{field} contains an invisible text-direction character (U+{(int)c:X4}); remove it and try again.");
            }
        }
        foreach (var marker in Active)
        {
            if (value.Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                throw RuleViolation.Invalid($"{field} contains '{marker}', which looks like web script; write plain text.");
            }
        }
    }

    /// <summary>How much of a peer's error text this node keeps, shows or logs.</summary>
    public const int PeerTextMax = 500;

    /// <summary>
    /// Text a peer chose (its refusal details, error messages), made safe to show on a
    /// terminal, a page or in a log: control and text-direction characters become '?', and
    /// it is cut to <see cref="PeerTextMax"/> characters. The one place such text is
    /// cleaned: everything that keeps or shows what a peer said passes it through here.
    /// </summary>
    public static string FromPeer(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var cut = text.Length > PeerTextMax;
        var chars = text.AsSpan(0, cut ? PeerTextMax : text.Length).ToArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            if (char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' || char.IsSurrogate(c) && !IsPairedAt(chars, i))
            {
                chars[i] = '?';
            }
        }
        return cut ? new string(chars) + "…" : new string(chars);
    }

    private static bool IsPairedAt(char[] chars, int i) =>
        char.IsHighSurrogate(chars[i]) ? i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]) : i > 0 && char.IsHighSurrogate(chars[i - 1]);
}
