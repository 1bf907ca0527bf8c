using Fidpass.MerchantToken.Merchants;

namespace Fidpass.MerchantToken.Tests;

public sealed class SlugTests
{
    [Theory]
    [InlineData("Café Dupont", "cafe-dupont")]
    [InlineData("Café Dupont & Fils", "cafe-dupont-fils")]
    [InlineData("  Boulangerie Œuf  ", "boulangerie-oeuf")]
    [InlineData("L'Atelier du Pain -- Paris 11e", "l-atelier-du-pain-paris-11e")]
    [InlineData("ÉPICERIE ÂGÉE", "epicerie-agee")]
    [InlineData("!!!", "commerce")]
    [InlineData("é", "commerce")]
    public void A_slug_is_derived_from_the_name_in_lower_case_ascii(string name, string expected) =>
        Assert.Equal(expected, Slugs.FromName(name));

    [Fact]
    public void A_derived_slug_is_always_valid_even_from_a_long_name()
    {
        var slug = Slugs.FromName(string.Concat(Enumerable.Repeat("Très long nom de commerce ", 10)));

        Assert.True(Slugs.IsValid(slug), slug);
        Assert.True(slug.Length <= Slugs.MaxLength);
        Assert.False(slug.EndsWith('-'));
    }

    [Theory]
    [InlineData("cafe-dupont", true)]
    [InlineData("c2", true)]
    [InlineData("Cafe-Dupont", false)]
    [InlineData("cafe_dupont", false)]
    [InlineData("-cafe", false)]
    [InlineData("cafe-", false)]
    [InlineData("cafe--dupont", false)]
    [InlineData("c", false)]
    [InlineData("café", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Only_lower_case_letters_digits_and_single_inner_dashes_are_valid(string? slug, bool valid) =>
        Assert.Equal(valid, Slugs.IsValid(slug));

    [Fact]
    public void Alternatives_to_a_taken_slug_stay_valid_and_distinct()
    {
        var candidates = Slugs.Candidates(Slugs.FromName(new string('a', 60)), 20).ToList();

        Assert.Equal(20, candidates.Distinct().Count());
        Assert.All(candidates, c => Assert.True(Slugs.IsValid(c), c));
        Assert.Equal(["cafe", "cafe-2", "cafe-3"], Slugs.Candidates("cafe", 3));
    }
}
