using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Fidpass.MerchantToken.Merchants;

/// <summary>A merchant's public identifier in URLs: lower-case a-z, 0-9 and single inner dashes.</summary>
public static partial class Slugs
{
    public const int MaxLength = 50;

    public static bool IsValid(string? slug) => slug is not null && slug.Length is >= 2 and <= MaxLength && Shape().IsMatch(slug);

    /// <summary>"Café Dupont &amp; Fils" → "cafe-dupont-fils" (accents folded, anything else becomes one dash).</summary>
    public static string FromName(string name)
    {
        var folded = name.Normalize(NormalizationForm.FormD);
        var slug = new StringBuilder(folded.Length);
        foreach (var c in folded)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            var lower = char.ToLowerInvariant(c) switch { 'œ' => "oe", 'æ' => "ae", 'ß' => "ss", var other => other.ToString() };
            foreach (var l in lower)
            {
                slug.Append(l is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? l : '-');
            }
        }

        var collapsed = Dashes().Replace(slug.ToString(), "-").Trim('-');
        if (collapsed.Length > MaxLength)
        {
            collapsed = collapsed[..MaxLength].TrimEnd('-');
        }

        return collapsed.Length >= 2 ? collapsed : "commerce";
    }

    /// <summary>Candidates for a generated slug when the first one is taken: base, base-2, base-3, …</summary>
    public static IEnumerable<string> Candidates(string baseSlug, int count)
    {
        yield return baseSlug;
        for (var n = 2; n <= count; n++)
        {
            var suffix = "-" + n.ToString(CultureInfo.InvariantCulture);
            yield return baseSlug[..Math.Min(baseSlug.Length, MaxLength - suffix.Length)].TrimEnd('-') + suffix;
        }
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex Shape();

    [GeneratedRegex("-{2,}")]
    private static partial Regex Dashes();
}
