using System.Text.Json;
using Fidpass.CashlogyEdge.Api;
using Fidpass.CashlogyEdge.Protocol;

namespace Fidpass.CashlogyEdge.Operations;

/// <summary>Coins and notes a till names (dispense by denomination), read strictly and written in the Connector's <c>coins;notes</c> shape.</summary>
public static class Denominations
{
    public static readonly long[] EuroCoins = [1, 2, 5, 10, 20, 50, 100, 200];
    public static readonly long[] EuroNotes = [500, 1000, 2000, 5000, 10000, 20000, 50000];

    /// <summary><c>[{"value":2000,"count":3}, …]</c>: known euro values, integer counts ≥ 1, each value once, total ≤ <see cref="CashAccess.MaxAmount"/>.</summary>
    public static bool TryRead(JsonElement body, out IReadOnlyList<DenominationCount> pieces, out long amount)
    {
        pieces = [];
        amount = 0;
        if (!body.TryGetProperty("denominations", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() is 0 or > 15)
        {
            return false;
        }

        var read = new List<DenominationCount>();
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object ||
                !item.TryGetProperty("value", out var valueElement) || valueElement.ValueKind != JsonValueKind.Number || !valueElement.TryGetInt64(out var value) ||
                !item.TryGetProperty("count", out var countElement) || countElement.ValueKind != JsonValueKind.Number || !countElement.TryGetInt32(out var count) ||
                count is < 1 or > 1000 || !(EuroCoins.Contains(value) || EuroNotes.Contains(value)) || read.Any(p => p.Value == value))
            {
                return false;
            }

            read.Add(new DenominationCount(value, count, EuroNotes.Contains(value)));
        }

        amount = read.Sum(p => p.Value * p.Count);
        pieces = [.. read.OrderBy(p => p.Value)];
        return amount <= CashAccess.MaxAmount;
    }

    public static string Format(IReadOnlyList<DenominationCount> pieces) =>
        new DenominationList(pieces, new Dictionary<string, long>()).Format();

    public static object View(string list) =>
        DenominationList.Parse(list).Items.Select(i => new { value = i.Value, count = i.Count, kind = i.IsNote ? "note" : "coin" }).ToList();
}
