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
}
