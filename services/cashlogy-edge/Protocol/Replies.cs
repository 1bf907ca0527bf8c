using System.Globalization;

namespace Fidpass.CashlogyEdge.Protocol;

/// <summary>A decoded reply: result code (first field) and the values after it.</summary>
public sealed record CashlogyReply(string Code, IReadOnlyList<string> Values)
{
    public const string Ok = "0";
    public const string Level = "WR:LEVEL";
    public const string Cancelled = "WR:CANCEL";
    public const string Generic = "ER:GENERIC";
    public const string Busy = "ER:BUSY";
    public const string BadData = "ER:BAD_DATA";
    public const string Illegal = "ER:ILLEGAL";

    /// <summary><c>0</c> and <c>WR:LEVEL</c> (success with a level warning).</summary>
    public bool IsSuccess => Code is Ok or Level;

    public bool IsLevelWarning => Code == Level;

    /// <summary>BUSY, ILLEGAL and BAD_DATA: the command was refused before anything moved (spec 5.1).</summary>
    public bool IsRejection => Code is Busy or Illegal or BadData;

    /// <summary>The i-th value as cents; a missing value (short error form) counts as 0.</summary>
    public long Cents(int index) =>
        index < Values.Count && long.TryParse(Values[index], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;

    public string Text(int index) => index < Values.Count ? Values[index] : "";

    public string ToFrame() => "#" + Code + "#" + string.Concat(Values.Select(v => v + "#"));
}

/// <summary>
/// The machine's own figures after <c>#C#</c>: inserted (<c>auto</c>), returned, declared manually,
/// change added. Net collected = auto + manual − returned (spec 2.5.2).
/// </summary>
public sealed record ChargeFigures(long Inserted, long Returned, long Manual, long ChangeAdded)
{
    public long Net => Inserted + Manual - Returned;

    public static ChargeFigures From(CashlogyReply reply) => new(reply.Cents(0), reply.Cents(1), reply.Cents(2), reply.Cents(3));
}

/// <summary><c>#P#</c>: amount really dispensed and change added.</summary>
public sealed record DispenseFigures(long Dispensed, long ChangeAdded)
{
    public static DispenseFigures From(CashlogyReply reply) => new(reply.Cents(0), reply.Cents(1));
}

/// <summary><c>#G#</c> back office: totals before/after and what went in and out.</summary>
public sealed record BackOfficeFigures(long Before, long After, long Inserted, long Returned, long NotDispensed, long Consolidated)
{
    public static BackOfficeFigures From(CashlogyReply reply) =>
        new(reply.Cents(0), reply.Cents(1), reply.Cents(2), reply.Cents(3), reply.Cents(4), reply.Cents(5));
}

/// <summary><c>#F#</c> close of day: total before, added by the operator, total after; what was taken out is before + added − after.</summary>
public sealed record ClosureFigures(long Before, long Added, long After)
{
    public long Withdrawn => Before + Added - After;

    public static ClosureFigures From(CashlogyReply reply) => new(reply.Cents(0), reply.Cents(1), reply.Cents(2));
}

/// <summary><c>#T#</c>: cents in the recyclers (can be paid out) and in the stacker.</summary>
public sealed record CashTotals(long Recyclers, long Stacker)
{
    public long Total => Recyclers + Stacker;

    public static CashTotals From(CashlogyReply reply) => new(reply.Cents(0), reply.Cents(1));
}

/// <summary>One <c>value:count</c> pair; <paramref name="IsNote"/> tells the group (coins before <c>;</c>, notes after).</summary>
public sealed record DenominationCount(long Value, int Count, bool IsNote);

/// <summary>
/// <c>1:12,2:0,…,200:5;500:3,1000:0,2000:1</c>; the note group may carry <c>STACKER:n</c> and
/// <c>SAFEBOX:n</c>, kept apart as named extras (spec 2.3).
/// </summary>
public sealed record DenominationList(IReadOnlyList<DenominationCount> Items, IReadOnlyDictionary<string, long> Extras)
{
    public long TotalCents => Items.Sum(i => i.Value * i.Count);

    public static DenominationList Parse(string text)
    {
        var items = new List<DenominationCount>();
        var extras = new Dictionary<string, long>(StringComparer.Ordinal);
        var groups = text.Split(';');
        for (var g = 0; g < groups.Length; g++)
        {
            foreach (var pair in groups[g].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = pair.Split(':');
                var count = parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : 0;
                if (long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    items.Add(new DenominationCount(value, (int)count, IsNote: g > 0));
                }
                else
                {
                    extras[parts[0]] = count;
                }
            }
        }

        return new DenominationList(items, extras);
    }

    public string Format() =>
        string.Join(',', Items.Where(i => !i.IsNote).Select(i => $"{i.Value}:{i.Count}")) + ";" +
        string.Join(',', Items.Where(i => i.IsNote).Select(i => $"{i.Value}:{i.Count}")
            .Concat(Extras.Select(e => $"{e.Key}:{e.Value}")));
}

/// <summary>Level state codes of <c>#GC2#</c> (UnifiedPOS CashChanger).</summary>
public static class LevelStates
{
    public static string Describe(int code) => code switch
    {
        0 => "ok",
        11 => "empty",
        12 => "near_empty",
        13 => "empty_ok",
        21 => "full",
        22 => "near_full",
        23 => "full_ok",
        31 => "jam",
        32 => "jam_ok",
        _ => "unknown",
    };
}

/// <summary>One denomination's level from <c>#GC2#</c>: state list and percentage list share the coin;note shape.</summary>
public sealed record DenominationLevel(string Denomination, bool IsNote, int State, string StateName, int Percent)
{
    public static IReadOnlyList<DenominationLevel> Parse(string states, string percentages)
    {
        var percentByKey = Pairs(percentages).ToDictionary(p => (p.Key, p.IsNote), p => p.Value);
        return Pairs(states)
            .Select(p => new DenominationLevel(p.Key, p.IsNote, (int)p.Value, LevelStates.Describe((int)p.Value),
                (int)percentByKey.GetValueOrDefault((p.Key, p.IsNote))))
            .ToList();
    }

    private static IEnumerable<(string Key, bool IsNote, long Value)> Pairs(string text)
    {
        var groups = text.Split(';');
        for (var g = 0; g < groups.Length; g++)
        {
            foreach (var pair in groups[g].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = pair.Split(':');
                _ = long.TryParse(parts.Length > 1 ? parts[1] : "0", NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value);
                yield return (parts[0], g > 0, value);
            }
        }
    }
}

/// <summary>
/// One device error from <c>#?#codes#rel#</c>: <c>code|type|title|main message|extra message|video|image</c>;
/// type 0 is a warning, anything else an error (spec 2.5.4).
/// </summary>
public sealed record DeviceError(string Code, bool IsWarning, string Title, string Message, string Extra)
{
    public static DeviceError Parse(string detail)
    {
        var parts = detail.Split('|');
        string At(int i) => i < parts.Length ? parts[i] : "";
        return new DeviceError(At(0), At(1) == "0", At(2), At(3), At(4));
    }

    /// <summary><c>#0#1131,1313#</c>: the list of current codes; empty when the machine has none.</summary>
    public static IReadOnlyList<string> ParseCodes(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
