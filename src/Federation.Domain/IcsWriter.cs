using System.Text;

namespace Federation.Domain;

/// <summary>
/// Writes iCalendar (RFC 5545) content lines: CRLF line ends, TEXT values escaped
/// (section 3.3.11) and lines folded at 75 octets without splitting a UTF-8 character
/// (section 3.1).
/// </summary>
// Hand-written on purpose. Ical.Net 5.2.4 (the well-kept library, served here) was tried
// as its replacement: it folds long lines in the middle of a character outside the Basic
// Multilingual Plane (an emoji in a call-out title came out as two broken halves on two
// lines), which section 3.1 forbids and CalendarTests checks. It would also reorder the
// calendar's properties and add SEQUENCE:0 to every event. These 50 lines do exactly what
// the exports need; revisit when Ical.Net folds by whole characters.
public sealed class IcsWriter
{
    private const int MaxOctets = 75;
    private readonly StringBuilder _out = new();

    /// <summary>A property whose value is already in its iCalendar form (dates, numbers, UIDs we make).</summary>
    public IcsWriter Raw(string name, string value)
    {
        Fold(name + ":" + value);
        return this;
    }

    /// <summary>A TEXT property: the value is escaped.</summary>
    public IcsWriter Text(string name, string value) => Raw(name, Escape(value));

    public override string ToString() => _out.ToString();

    /// <summary>Backslash, semicolon and comma are escaped; every line break becomes "\n".</summary>
    public static string Escape(string value) => value
        .Replace("\\", "\\\\")
        .Replace(";", "\\;")
        .Replace(",", "\\,")
        .Replace("\r\n", "\\n")
        .Replace("\r", "\\n")
        .Replace("\n", "\\n");

    private void Fold(string line)
    {
        // Continuation lines start with one space, which counts towards their 75 octets.
        var budget = MaxOctets;
        var used = 0;
        foreach (var rune in line.EnumerateRunes())
        {
            var octets = rune.Utf8SequenceLength;
            if (used + octets > budget)
            {
                _out.Append("\r\n ");
                budget = MaxOctets - 1;
                used = 0;
            }
            _out.Append(rune.ToString());
            used += octets;
        }
        _out.Append("\r\n");
    }
}
