using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// "The day's sales" as a French merchant means it: a calendar day in Europe/Paris (a sale at 00:30
/// belongs to the day that starts then, whatever the UTC date). Card and cash listings read their
/// <c>?date=</c> by this one rule.
/// </summary>
public static class ParisDay
{
    public const string TimeZoneId = "Europe/Paris";

    // Images without tzdata have no Europe/Paris: the day then falls back to UTC rather than failing every listing.
    public static TimeZoneInfo Zone { get; } =
        TimeZoneInfo.TryFindSystemTimeZoneById(TimeZoneId, out var paris) ? paris : TimeZoneInfo.Utc;

    /// <summary>The day named by <paramref name="text"/> (<c>yyyy-MM-dd</c>), or today in Paris when absent; false when malformed.</summary>
    public static bool TryRead(string? text, DateTimeOffset now, out DateOnly day, out DateTimeOffset from, out DateTimeOffset to)
    {
        day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, Zone).DateTime);
        if (text is not null && !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            from = to = default;
            return false;
        }

        from = Start(day);
        to = Start(day.AddDays(1));
        return true;
    }

    private static DateTimeOffset Start(DateOnly day)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        return new DateTimeOffset(midnight, Zone.GetUtcOffset(midnight));
    }

    public static IResult InvalidDate() =>
        ApiProblems.Problem(400, "invalid_date", "« date » : un jour au format AAAA-MM-JJ (heure de Paris), par exemple 2026-12-07.");

    public static string Format(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
