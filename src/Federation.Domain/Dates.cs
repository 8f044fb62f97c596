using Google.Protobuf.WellKnownTypes;

namespace Federation.Domain;

/// <summary>Checks on dates coming from people and peers.</summary>
public static class Dates
{
    /// <summary>
    /// Refuses a Timestamp outside what protobuf allows (0001-01-01 to 9999-12-31, nanos
    /// 0–999,999,999). Why: ToDateTimeOffset throws InvalidOperationException on one, so an
    /// impossible date from a delegate or a signed peer event escaped as INTERNAL (found by
    /// the hostile-input catalogue and fuzz tests). Check before any comparison.
    /// </summary>
    public static void Check(string field, Timestamp? value)
    {
        if (value is not null && !IsValid(value))
        {
            throw RuleViolation.Invalid($"{field} is not a valid date (seconds {value.Seconds}, nanos {value.Nanos}); send a date between the years 1 and 9999.");
        }
    }

    public static bool IsValid(Timestamp t) =>
        t.Seconds is >= -62_135_596_800 and <= 253_402_300_799 && t.Nanos is >= 0 and <= 999_999_999;
}
