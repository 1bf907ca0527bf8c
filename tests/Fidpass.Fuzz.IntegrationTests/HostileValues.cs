using System.Text;

namespace Fidpass.Fuzz.IntegrationTests;

/// <summary>A value no service should choke on. <see cref="NeverStorable"/>: no route may accept it.</summary>
public sealed record Hostile(string Name, byte[] Json, string Url, bool NeverStorable = false)
{
    public override string ToString() => Name;
}

/// <summary>The corpus of issue 19: what a security probe sent, plus what a careless integrator does.</summary>
public static class HostileValues
{
    private static readonly byte[] InvalidUtf8 = [0xC3, 0x28, 0xFF];

    public static readonly IReadOnlyList<Hostile> Values =
    [
        new("lone surrogate", Utf8("\"a\\ud800b\""), "%ED%A0%80", NeverStorable: true),
        new("NUL", Utf8("\"a\\u0000b\""), "a%00b", NeverStorable: true),
        new("invalid UTF-8", [(byte)'"', .. InvalidUtf8, (byte)'"'], "%C3%28%FF", NeverStorable: true),
        new("null", Utf8("null"), ""),
        new("true", Utf8("true"), "true"),
        new("empty array", Utf8("[]"), "[]"),
        new("object", Utf8("{\"a\":1}"), "%7B%7D"),
        new("empty string", Utf8("\"\""), ""),
        new("long.MinValue", Utf8("-9223372036854775808"), "-9223372036854775808"),
        new("long.MaxValue", Utf8("9223372036854775807"), "9223372036854775807"),
        new("beyond long", Utf8("99999999999999999999999999"), "99999999999999999999999999"),
        new("negative", Utf8("-1"), "-1"),
        new("fraction", Utf8("0.5"), "0.5"),
        new("1e308", Utf8("1e308"), "1e308"),
        new("100k string", Utf8("\"" + new string('é', 100_000) + "\""), new string('a', 8_000)),
        new("deep nesting", Utf8(new string('[', 5_000) + new string(']', 5_000)), "%5B%5B%5B"),
        new("newline and quotes", Utf8("\"a\\r\\nX-Evil: 1\\\"'<>\""), "a%0D%0AX-Evil:%201"),
        new("accents", Utf8("\"Café été ÀÉÎÕÜ\""), "Caf%C3%A9"),
    ];

    /// <summary>Whole bodies that are not the object an endpoint expects.</summary>
    public static readonly IReadOnlyList<Hostile> Bodies =
    [
        new("empty body", [], ""),
        new("body null", Utf8("null"), ""),
        new("body []", Utf8("[]"), ""),
        new("body not JSON", Utf8("not json {"), ""),
        new("body number", Utf8("-9223372036854775808"), ""),
        new("body lone surrogate string", Utf8("\"\\ud800\""), "", NeverStorable: true),
        new("body invalid UTF-8", [(byte)'{', (byte)'"', .. InvalidUtf8, (byte)'"', (byte)':', (byte)'1', (byte)'}'], "", NeverStorable: true),
        new("body deep nesting", Utf8(new string('{', 1) + string.Concat(Enumerable.Repeat("\"a\":{", 3_000)) + new string('}', 3_001)), ""),
    ];

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
