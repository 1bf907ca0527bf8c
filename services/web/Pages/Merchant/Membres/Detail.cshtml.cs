using System.Text.Json;
using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Membres;

public sealed record HistoryRow(DateTimeOffset At, string Type, string Summary);

/// <summary>
/// One member: balance, full history (every event of the member's stream), manual adjustment with a
/// mandatory reason. The form carries its own idempotency key and a success redirects to the page
/// (post/redirect/get): a double click, a re-posted form or a reload never adjusts twice.
/// </summary>
public sealed class MembreModel(GatewayClient gateway, IStringLocalizer<Strings> t) : PageModel
{
    private const string AdjustedEntry = "member-adjusted";

    [BindProperty] public string? Delta { get; set; }
    [BindProperty] public string? Reason { get; set; }
    [BindProperty] public string? Attempt { get; set; }

    public MemberRow? Member { get; private set; }
    public IReadOnlyList<HistoryRow> History { get; private set; } = [];
    public (long Points, DateOnly On)? NextExpiry { get; private set; }
    public string? DeltaError { get; private set; }
    public string? ReasonError { get; private set; }
    public string? Error { get; private set; }
    public bool Adjusted { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid memberId, CancellationToken ct)
    {
        Attempt = Guid.NewGuid().ToString("N");
        Adjusted = TempData[AdjustedEntry] is true;
        return await LoadAsync(memberId, ct) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostAsync(Guid memberId, CancellationToken ct)
    {
        if (!long.TryParse(Delta?.Trim().Replace(" ", "", StringComparison.Ordinal), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var delta)
            || delta == 0 || Math.Abs(delta) > 1_000_000)
        {
            DeltaError = t["Members.DeltaInvalid"];
        }

        var reason = Reason?.Trim() ?? "";
        if (reason.Length is 0 or > 200)
        {
            ReasonError = t["Members.ReasonRequired"];
        }

        if (DeltaError is null && ReasonError is null)
        {
            Attempt ??= Guid.NewGuid().ToString("N");
            var result = await gateway.PostAsync(gateway.Merchant($"members/{memberId}/adjustments"), new { points = delta, reason }, ct,
                idempotencyKey: $"web-adjustment-{Attempt}");
            if (result.Ok)
            {
                TempData[AdjustedEntry] = true;
                return RedirectToPage(new { memberId });
            }
            else if (result.Code is "insufficient_points" or "invalid_points")
            {
                DeltaError = result.Message;
            }
            else if (result.Code == "reason_required")
            {
                ReasonError = result.Message;
            }
            else
            {
                Error = result.Message;
            }
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return await LoadAsync(memberId, ct) ? Page() : NotFound();
    }

    private async Task<bool> LoadAsync(Guid memberId, CancellationToken ct)
    {
        var result = await gateway.GetAsync(gateway.Merchant($"members/{memberId}"), ct);
        if (!result.Ok)
        {
            return false;
        }

        Member = MemberRow.From(result.Body.GetProperty("member"));
        NextExpiry = result.Body.TryGetProperty("nextExpiry", out var next) && next.ValueKind == JsonValueKind.Object
            ? (next.Number("points"), DateOnly.Parse(next.Text("on"), System.Globalization.CultureInfo.InvariantCulture))
            : null;
        History = [.. result.Body.Items("history").Reverse().Select(h => new HistoryRow(
            h.TryGetProperty("at", out var at) ? at.GetDateTimeOffset() : default, Known(h.Text("type")), Summary(Known(h.Text("type")), h.TryGetProperty("data", out var d) ? d : default)))];
        return true;
    }

    private static readonly string[] KnownEvents = ["member_enrolled", "points_credited", "credit_reversed", "points_adjusted", "reward_redeemed", "points_expired", "member_erased"];

    private static string Known(string type) => KnownEvents.Contains(type) ? type : "other";

    /// <summary>What an event did to the balance, signed: points taken back or spent read « −12 », points given « +12 ».</summary>
    private string Summary(string type, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return "";
        }

        var parts = new List<string>();
        foreach (var name in new[] { "points", "delta", "amountCents", "newBalance", "reason" })
        {
            var key = data.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            var value = key.Value;
            if (value.ValueKind is JsonValueKind.Number or JsonValueKind.String)
            {
                var text = (name, value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : (long?)null) switch
                {
                    ("amountCents", { } cents) => (cents / 100m).ToString("0.00 €", System.Globalization.CultureInfo.CurrentCulture),
                    ("points", { } points) => type is "credit_reversed" or "reward_redeemed" ? $"−{points}" : type == "points_credited" ? $"+{points}" : $"{points}",
                    ("delta", { } delta) => delta > 0 ? $"+{delta}" : $"−{-delta}",
                    _ => value.ToString(),
                };
                parts.Add($"{t["History." + name]} {text}");
            }
        }

        return string.Join(" · ", parts);
    }
}
