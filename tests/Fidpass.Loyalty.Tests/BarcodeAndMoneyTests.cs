using Fidpass.ServiceDefaults;
using System.Text.Json;
using Fidpass.Loyalty.Programs;

namespace Fidpass.Loyalty.Tests;

public sealed class BarcodeTests
{
    private static readonly Guid Id = Guid.Parse("3f2504e0-4f89-41d3-9a0c-0305e82c3301");

    [Theory]
    [InlineData("3f2504e0-4f89-41d3-9a0c-0305e82c3301")]
    [InlineData("  3f2504e0-4f89-41d3-9a0c-0305e82c3301 \r\n")]
    [InlineData("3F2504E0-4F89-41D3-9A0C-0305E82C3301")]
    [InlineData("https://fidpass.fr/c/3f2504e0-4f89-41d3-9a0c-0305e82c3301?utm=qr")]
    [InlineData("FIDPASS:3f2504e0-4f89-41d3-9a0c-0305e82c3301")]
    public void Any_string_holding_exactly_one_uuid_designates_it(string scanned) =>
        Assert.Equal(Id, MemberBarcode.Normalise(scanned));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("12345")]
    [InlineData("3f2504e0-4f89-41d3-9a0c-0305e82c330")]
    [InlineData("3f2504e0-4f89-41d3-9a0c-0305e82c3301 3f2504e0-4f89-41d3-9a0c-0305e82c3302")]
    [InlineData(null)]
    public void Anything_else_designates_nobody(string? scanned) => Assert.Null(MemberBarcode.Normalise(scanned));
}

public sealed class MoneyTests
{
    private static JsonElement Value(string json) => JsonDocument.Parse(json).RootElement;

    [Theory]
    [InlineData("7.9", 790)]
    [InlineData("7.90", 790)]
    [InlineData("\"7.90\"", 790)]
    [InlineData("\" 7,90 \"", 790)]
    [InlineData("0", 0)]
    [InlineData("12", 1200)]
    [InlineData("\"12.400\"", 1240)]
    [InlineData("1e2", 10000)]
    [InlineData("1000000", 100_000_000)]
    public void Euros_become_exact_cents(string json, long cents)
    {
        Assert.True(Money.TryParseEuros(Value(json), out var parsed, out _));
        Assert.Equal(cents, parsed);
    }

    [Theory]
    [InlineData("\"abc\"")]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("-1")]
    [InlineData("\"-1\"")]
    [InlineData("1e308")]
    [InlineData("\"1e3\"")]
    [InlineData("1000000.01")]
    [InlineData("7.999")]
    [InlineData("\"\"")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[1]")]
    public void Anything_that_is_not_a_sale_amount_is_refused_with_a_french_reason(string json)
    {
        Assert.False(Money.TryParseEuros(Value(json), out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Amounts_are_shown_the_french_way() => Assert.Equal("5,00 €", Money.Format(500));
}
