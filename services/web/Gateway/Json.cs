using System.Text.Json;

namespace Fidpass.Web.Gateway;

/// <summary>Reads the gateway's JSON answers without ceremony.</summary>
public static class Json
{
    public static string Text(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? (v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : v.ToString()) : "";

    public static long Number(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    public static IEnumerable<JsonElement> Items(this JsonElement e, string? name = null)
    {
        var array = name is null ? e : e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;
        return array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];
    }
}
