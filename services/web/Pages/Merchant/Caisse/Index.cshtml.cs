using System.Globalization;
using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Caisse;

public sealed record Credited(string OperationId, string Name, long PointsAdded, long NewBalance);

public sealed record Undone(long PointsReversed, long Points);

/// <summary>
/// "Caisse rapide": the code comes from the camera, a hardware scanner (types it, then Enter) or
/// the keyboard; an e-mail is looked up first. Each form carries its own idempotency key, so a
/// double tap or a resent form never credits twice.
/// </summary>
public sealed class CaisseModel(GatewayClient gateway, IStringLocalizer<Strings> t) : PageModel
{
    [BindProperty] public string? Code { get; set; }
    [BindProperty] public string? Amount { get; set; }
    [BindProperty] public bool Visit { get; set; }
    [BindProperty] public string? Attempt { get; set; }
    [BindProperty] public string? OperationId { get; set; }

    public string? CodeError { get; private set; }
    public string? AmountError { get; private set; }
    public string? Error { get; private set; }
    public Credited? Credited { get; private set; }
    public Undone? Undone { get; private set; }

    public void OnGet() => Attempt = Guid.NewGuid().ToString("N");

    public async Task<IActionResult> OnPostCreditAsync(CancellationToken ct)
    {
        var code = Code?.Trim() ?? "";
        var amount = Euros.Parse(Amount);
        if (code.Length == 0)
        {
            CodeError = t["Scanner.CodeRequired"];
        }
        else if (code.Length > 500)
        {
            CodeError = t["Scanner.CodeTooLong"];
        }

        if (amount.Error is { } key)
        {
            AmountError = t[key];
        }
        else if (amount.Cents is null && !Visit)
        {
            AmountError = t["Scanner.NothingToCredit"];
        }

        if (CodeError is not null || AmountError is not null)
        {
            return Retry();
        }

        var barcode = code;
        if (code.Contains('@', StringComparison.Ordinal))
        {
            var found = await gateway.GetAsync(gateway.Merchant("members?pageSize=5&search=" + Uri.EscapeDataString(code.ToLowerInvariant())), ct);
            var member = found.Body.Items("items").FirstOrDefault(m => string.Equals(m.Text("email"), code, StringComparison.OrdinalIgnoreCase));
            if (member.ValueKind == System.Text.Json.JsonValueKind.Undefined)
            {
                CodeError = t["Scanner.NoSuchEmail"];
                return Retry();
            }

            barcode = member.Text("id");
        }

        var body = new Dictionary<string, object> { ["barcode"] = barcode, ["source"] = "web" };
        if (amount.Cents is { } cents)
        {
            body["amount_eur"] = Euros.Format(cents);
        }

        if (Visit)
        {
            body["visit"] = true;
        }

        var result = await gateway.PostAsync(gateway.Merchant("scans"), body, ct, idempotencyKey: "web-" + (Attempt ?? Guid.NewGuid().ToString("N")));
        if (!result.Ok)
        {
            switch (result.Code)
            {
                case "member_not_found" or "barcode_missing" or "invalid_barcode":
                    CodeError = t["Scanner.UnknownCard"];
                    break;
                case "no_points_specified" or "invalid_amount" or "invalid_points":
                    AmountError = result.Message;
                    break;
                default:
                    Error = result.Message;
                    break;
            }

            return Retry();
        }

        var r = result.Body;
        Credited = new Credited(r.Text("operationId"), r.GetProperty("member").Text("name"), r.Number("pointsAdded"), r.Number("newBalance"));
        (Code, Amount, Visit) = (null, null, false);
        Attempt = Guid.NewGuid().ToString("N");
        return Page();
    }

    public async Task<IActionResult> OnPostUndoAsync(CancellationToken ct)
    {
        Attempt = Guid.NewGuid().ToString("N");
        if (!Guid.TryParse(OperationId, out var operation))
        {
            Error = t["Scanner.UndoUnknown"];
            return Page();
        }

        // Undoing one credit is one act: a re-posted form replays the first answer instead of failing.
        var result = await gateway.PostAsync(gateway.Merchant($"operations/{operation}/reversal"), new { }, ct, idempotencyKey: $"web-undo-{operation:N}");
        if (!result.Ok)
        {
            Error = result.Message;
            return Page();
        }

        Undone = new Undone(result.Body.Number("pointsReversed"), result.Body.Number("points"));
        return Page();
    }

    private PageResult Retry()
    {
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}

/// <summary>Amounts typed in euros ("7,90", "7.90", "12") to integer cents.</summary>
public static class Euros
{
    public const long MaxCents = 10_000_000;

    public static (long? Cents, string? Error) Parse(string? text)
    {
        var value = text?.Trim().Replace('\u00a0', ' ').Replace(" ", "", StringComparison.Ordinal).Replace("€", "", StringComparison.Ordinal).Replace(',', '.');
        if (string.IsNullOrEmpty(value))
        {
            return (null, null);
        }

        if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var euros) || decimal.Round(euros, 2) != euros)
        {
            return (null, "Scanner.AmountInvalid");
        }

        var cents = (long)(euros * 100);
        return cents is <= 0 or > MaxCents ? (null, "Scanner.AmountRange") : (cents, null);
    }

    public static string Format(long cents) => (cents / 100m).ToString("0.00", CultureInfo.InvariantCulture);
}
