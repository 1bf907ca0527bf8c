using System.Text.RegularExpressions;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// What a scanner reads: the member's UUID, sometimes with white space around it, in upper case,
/// or inside a URL (a QR code). Any string holding exactly one UUID designates that UUID.
/// Every till-facing API (loyalty scans, card and cash payments with a card attached) reads cards
/// by this one rule, so it lives beside the hosting code all services share.
/// </summary>
public static partial class MemberBarcode
{
    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", RegexOptions.CultureInvariant)]
    private static partial Regex UuidPattern();

    public static Guid? Normalise(string? scanned)
    {
        if (string.IsNullOrWhiteSpace(scanned) || scanned.Length > 2048)
        {
            return null;
        }

        var matches = UuidPattern().Matches(scanned);
        return matches.Count == 1 && Guid.TryParse(matches[0].Value, out var id) ? id : null;
    }
}
