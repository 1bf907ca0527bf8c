using System.Globalization;
using System.Text.Json;
using Fidpass.Web.Gateway;
using Fidpass.Web.Pages.Merchant.Programme;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Caisse;

/// <summary>
/// The till's last operation, kept (in the encrypted TempData cookie) across a redirect, a reload and a
/// refused credit. <c>Reward</c> names the reward taken by a redemption (which the till does not undo);
/// null for a credit.
/// </summary>
public sealed record LastOperation(string OperationId, string Name, long Points, long Balance, bool Undone, string? Reward = null);

/// <summary>The member identified at the till, and what the balance can take now (the v1 lookup).</summary>
public sealed record TillMember(string Id, string Name, long Points, IReadOnlyList<RewardRow> Available, RewardRow? Next, long Missing);

/// <summary>
/// "Caisse rapide": the code comes from the camera, a hardware scanner (types it, then Enter) or
/// the keyboard; an e-mail is looked up first. Each form carries its own idempotency key, so a
/// double tap or a resent form never credits twice, and a credit or an undo answers with a
/// redirect (post/redirect/get): reloading the result shows it again and sends nothing. Once a card
/// is identified (a credit, or « Récompenses »), the rewards its balance covers are offered, each
/// redeemed in one tap under its own key, so a double tap redeems once.
/// </summary>
public sealed class CaisseModel(GatewayClient gateway, IStringLocalizer<Strings> t) : PageModel
{
    private const string LastEntry = "Caisse.Last";
    private const string MemberEntry = "Caisse.Member";

    [BindProperty] public string? Code { get; set; }
    [BindProperty] public string? Amount { get; set; }
    [BindProperty] public bool Visit { get; set; }
    [BindProperty] public string? Attempt { get; set; }

    public string? CodeError { get; private set; }
    public string? AmountError { get; private set; }
    public string? Error { get; private set; }
    public LastOperation? Last { get; private set; }
    public TillMember? Member { get; private set; }

    /// <summary>« 1 passage » is offered only when a visit earns something (a stamp card, or points per visit).</summary>
    public bool VisitEarns { get; private set; }

    private TillRules? Rules { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Attempt = Guid.NewGuid().ToString("N");
        await LoadAsync(ct);
    }

    public async Task<IActionResult> OnPostCreditAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var code = Code?.Trim() ?? "";
        var amount = Euros.Parse(Amount);
        var visit = Visit && VisitEarns;
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
        else if (amount.Cents is null && !visit)
        {
            AmountError = t[VisitEarns ? "Scanner.NothingToCredit" : "Scanner.AmountRequired"];
        }

        if (CodeError is not null || AmountError is not null)
        {
            return Retry();
        }

        var barcode = await BarcodeAsync(code, ct);
        if (barcode is null)
        {
            return Retry();
        }

        var body = new Dictionary<string, object> { ["barcode"] = barcode, ["source"] = "web" };
        if (amount.Cents is { } cents)
        {
            body["amount_eur"] = Euros.Format(cents);
        }

        if (visit)
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
                case "no_points_specified" when Rules is { } rules:
                    AmountError = amount.Cents < rules.MinAmountCents
                        ? t["Scanner.BelowMinimum", Money(rules.MinAmountCents)]
                        : t["Scanner.NothingEarned", rules.PointsPerEuro, rules.PointsPerVisit];
                    break;
                case "points_limit_exceeded" when Rules is { MaxPointsPerOperation: { } max }:
                    AmountError = t["Scanner.OverCap", max];
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
        Remember(new LastOperation(r.Text("operationId"), r.GetProperty("member").Text("name"), r.Number("pointsAdded"), r.Number("newBalance"), Undone: false));
        TempData[MemberEntry] = r.GetProperty("member").Text("id");
        return RedirectToPage();
    }

    /// <summary>« Récompenses »: identifies the card without crediting, to show what its balance can take.</summary>
    public async Task<IActionResult> OnPostRewardsAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var code = Code?.Trim() ?? "";
        CodeError = code.Length == 0 ? t["Scanner.CodeRequired"].Value : code.Length > 500 ? t["Scanner.CodeTooLong"].Value : null;
        var barcode = CodeError is null ? await BarcodeAsync(code, ct) : null;
        if (barcode is null)
        {
            return Retry();
        }

        var found = await LookupAsync(barcode, ct);
        if (found is null)
        {
            CodeError = t["Scanner.UnknownCard"];
            return Retry();
        }

        TempData[MemberEntry] = found.Id;
        return RedirectToPage();
    }

    /// <summary>One tap on a reward: the catalogue's name and points, the form's own key (a double tap replays the first answer).</summary>
    public async Task<IActionResult> OnPostRedeemAsync(string? rewardId, string? redeemAttempt, CancellationToken ct)
    {
        await LoadAsync(ct);
        Attempt = Guid.NewGuid().ToString("N");
        if (Member is not { } member || !Guid.TryParse(rewardId, out var reward))
        {
            Error = t["Scanner.UnknownCard"];
            return Retry();
        }

        var key = "web-redeem-" + (redeemAttempt is { Length: > 0 and <= 64 } ? redeemAttempt : Guid.NewGuid().ToString("N"));
        var result = await gateway.PostAsync(gateway.Merchant($"members/{Uri.EscapeDataString(member.Id)}/redemptions"), new { rewardId = reward }, ct, idempotencyKey: key);
        if (!result.Ok)
        {
            Error = result.Message;
            return Retry();
        }

        var taken = result.Body.GetProperty("reward");
        Remember(new LastOperation(result.Body.Text("operationId"), member.Name, taken.Number("points"), result.Body.Number("points"), Undone: false, taken.Text("name")));
        return RedirectToPage();
    }

    /// <summary>The barcode to send for what was typed or scanned: an e-mail is looked up first (null, with the field's error, when no member has it).</summary>
    private async Task<string?> BarcodeAsync(string code, CancellationToken ct)
    {
        if (!code.Contains('@', StringComparison.Ordinal))
        {
            return code;
        }

        var found = await gateway.GetAsync(gateway.Merchant("members?pageSize=5&search=" + Uri.EscapeDataString(code.ToLowerInvariant())), ct);
        var member = found.Body.Items("items").FirstOrDefault(m => string.Equals(m.Text("email"), code, StringComparison.OrdinalIgnoreCase));
        if (member.ValueKind == JsonValueKind.Undefined)
        {
            CodeError = t["Scanner.NoSuchEmail"];
            return null;
        }

        return member.Text("id");
    }

    private async Task<TillMember?> LookupAsync(string barcode, CancellationToken ct)
    {
        var found = await gateway.GetAsync(gateway.Merchant("lookup?barcode=" + Uri.EscapeDataString(barcode)), ct);
        if (!found.Ok)
        {
            return null;
        }

        var m = found.Body.GetProperty("member");
        var next = found.Body.TryGetProperty("nextReward", out var n) && n.ValueKind == JsonValueKind.Object ? n : default;
        return new TillMember(m.Text("id"), m.Text("name"), m.Number("points"), [.. found.Body.Items("rewards").Select(RewardRow.From)],
            next.ValueKind == JsonValueKind.Object ? RewardRow.From(next) : null, next.Number("missingPoints"));
    }

    public async Task<IActionResult> OnPostUndoAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        Attempt = Guid.NewGuid().ToString("N");
        if (Last is not { Undone: false } last || !Guid.TryParse(last.OperationId, out var operation))
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

        Remember(last with { Points = result.Body.Number("pointsReversed"), Balance = result.Body.Number("points"), Undone = true });
        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        if (TempData.Peek(LastEntry) is string json)
        {
            Last = JsonSerializer.Deserialize<LastOperation>(json);
        }

        var p = await gateway.GetAsync(gateway.Merchant("program"), ct);
        if (p.Ok)
        {
            Rules = new TillRules(p.Body.Text("type") == "stamps", p.Body.Number("pointsPerEuro"), p.Body.Number("pointsPerVisit"),
                Euros.Parse(p.Body.Text("minAmountEur")).Cents ?? 0,
                p.Body.Number("maxPointsPerOperation") is > 0 and var max ? max : null);
        }

        VisitEarns = Rules is not { IsStamps: false, PointsPerVisit: <= 0 };
        // TempData gives a Guid back for a string that reads as one.
        if (TempData.Peek(MemberEntry)?.ToString() is { Length: > 0 } memberId)
        {
            Member = await LookupAsync(memberId, ct);
        }
    }

    private void Remember(LastOperation last) => TempData[LastEntry] = JsonSerializer.Serialize(last);

    private static string Money(long cents) => (cents / 100m).ToString("0.00 €", CultureInfo.GetCultureInfo("fr-FR"));

    private PageResult Retry()
    {
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private sealed record TillRules(bool IsStamps, long PointsPerEuro, long PointsPerVisit, long MinAmountCents, long? MaxPointsPerOperation);
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
