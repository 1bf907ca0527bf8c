using System.Globalization;
using Fidpass.ServiceDefaults;

namespace Fidpass.Web;

/// <summary>
/// Every date and time a merchant reads, in Europe/Paris whatever the server's own zone (containers
/// run in UTC: a visit at 00:30 in Paris is 23:30 UTC the day before), in one French format.
/// </summary>
public static class ParisTime
{
    private static readonly CultureInfo French = CultureInfo.GetCultureInfo("fr-FR");

    public static DateTimeOffset In(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, ParisDay.Zone);

    /// <summary>« 00:30 »: in the lists of one day (the day's sales).</summary>
    public static string Time(DateTimeOffset at) => In(at).ToString("HH:mm", French);

    /// <summary>« 07/12/2026 à 00:30 »; « — » when unknown.</summary>
    public static string DateAndTime(DateTimeOffset? at) => at is { } known ? In(known).ToString("dd/MM/yyyy 'à' HH:mm", French) : "—";

    /// <summary>« 07/12/2026 ».</summary>
    public static string Day(DateOnly day) => day.ToString("dd/MM/yyyy", French);

    /// <summary>Exports: ISO 8601 with Paris's offset of that instant, « 2026-12-07T00:30:00+01:00 ».</summary>
    public static string Iso(DateTimeOffset at) => In(at).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}
