using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Fidpass.Loyalty.Programs;

/// <summary>Euros as tills send them (a JSON number or a decimal string) to integer cents.</summary>
public static partial class Money
{
    /// <summary>Above this a sale amount is a typing or unit mistake, not a purchase.</summary>
    public const long MaxCents = 100_000_000;

    [GeneratedRegex(@"^[0-9]{1,12}([.,][0-9]{1,12})?$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalText();

    public static bool TryParseEuros(JsonElement value, out long cents, out string error)
    {
        cents = 0;
        string text;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                text = value.GetRawText();
                break;
            case JsonValueKind.String:
                text = value.GetString()!.Trim();
                if (!DecimalText().IsMatch(text))
                {
                    error = "amount_eur doit être un montant en euros, par exemple 7.90.";
                    return false;
                }

                text = text.Replace(',', '.');
                break;
            default:
                error = "amount_eur doit être un nombre ou une chaîne comme \"7.90\".";
                return false;
        }

        if (!decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out var euros))
        {
            error = "amount_eur n'est pas un montant valide.";
            return false;
        }

        return TryToCents(euros, out cents, out error);
    }

    public static bool TryToCents(decimal euros, out long cents, out string error)
    {
        cents = 0;
        if (euros < 0)
        {
            error = "Le montant ne peut pas être négatif.";
            return false;
        }

        if (euros > MaxCents / 100m)
        {
            error = $"Le montant dépasse le maximum accepté ({Format(MaxCents)}).";
            return false;
        }

        var scaled = euros * 100m;
        if (scaled != decimal.Truncate(scaled))
        {
            error = "Le montant a au plus deux décimales (des centimes).";
            return false;
        }

        cents = (long)scaled;
        error = "";
        return true;
    }

    public static string Format(long cents) =>
        (cents / 100m).ToString("0.00", CultureInfo.InvariantCulture).Replace('.', ',') + " €";
}
