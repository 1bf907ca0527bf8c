using Fidpass.Web.Gateway;
using Fidpass.Web.Pages.Merchant.Caisse;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Encaisser;

/// <summary>
/// « Encaisser »: Fidpass as the till of a shop without a POS. A card sale on a reader or a cash sale
/// on a machine, with the customer's card attached. The form's <c>Attempt</c> is the sale's id at the
/// service (<c>saleId</c> / <c>requestId</c>): a double click or a resent form is the same sale, never two.
/// </summary>
public sealed class EncaisserModel(GatewayClient gateway, IStringLocalizer<Strings> t) : PageModel
{
    [BindProperty] public string? Device { get; set; }
    [BindProperty] public string? Amount { get; set; }
    [BindProperty] public string? Member { get; set; }
    [BindProperty] public string? Attempt { get; set; }

    [BindProperty] public string? Kind { get; set; }
    [BindProperty] public string? SaleId { get; set; }
    [BindProperty] public string? DeviceId { get; set; }
    [BindProperty] public long RefundAmount { get; set; }
    [BindProperty] public string? Retour { get; set; }

    public IReadOnlyList<Device> Devices { get; private set; } = [];
    public string? DeviceError { get; private set; }
    public string? AmountError { get; private set; }
    public string? MemberError { get; private set; }
    public string? Error { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Attempt = NewAttempt();
        await LoadAsync(ct);
        Device ??= Devices.FirstOrDefault(d => d.Status is "online" or "ready")?.Key ?? (Devices.Count > 0 ? Devices[0].Key : null);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var device = Devices.FirstOrDefault(d => d.Key == Device);
        var amount = Euros.Parse(Amount);
        DeviceError = device is null ? t["Checkout.DeviceRequired"].Value : null;
        AmountError = amount.Error is { } key ? t[key].Value : amount.Cents is null ? t["Checkout.AmountRequired"].Value : null;
        var member = Member?.Trim() is { Length: > 0 } m ? m : null;
        MemberError = member is { Length: > 500 } ? t["Checkout.MemberUnknown"].Value : null;
        if (DeviceError is not null || AmountError is not null || MemberError is not null || string.IsNullOrEmpty(Attempt) || Attempt.Length > 40
            || !Attempt.All(char.IsAsciiLetterOrDigit))
        {
            return Refused();
        }

        var id = "web-" + Attempt;
        var result = device!.Kind == "card"
            ? await gateway.PostAsync(gateway.Merchant("terminal/payments"),
                new { saleId = id, amount = amount.Cents, currency = "eur", readerId = device.Id, memberBarcode = member }, ct)
            : await gateway.PostAsync(gateway.Merchant($"cash/machines/{Uri.EscapeDataString(device.Id)}/charges"),
                new { requestId = id, amount = amount.Cents, memberBarcode = member }, ct);
        if (result.Ok)
        {
            var sale = device.Kind == "card" ? result.Body.Text("saleId") : result.Body.Text("operationId");
            return Redirect($"/encaisser/vente/{device.Kind}/{Uri.EscapeDataString(sale)}");
        }

        switch (result.Code)
        {
            case "invalid_amount" or "amount_below_minimum" or "amount_too_large":
                AmountError = result.Message;
                break;
            case "invalid_member_barcode" or "invalid_member":
                MemberError = t["Checkout.MemberUnknown"];
                break;
            case "reader_busy" or "reader_offline" or "reader_timeout" or "machine_offline" or "machine_busy" or "machine_initializing":
                Error = t["Checkout.Refused." + result.Code];
                break;
            default:
                Error = result.Message;
                break;
        }

        return Refused();
    }

    /// <summary>A whole refund of what is left of the sale; the form's Attempt makes a resent form the same refund.</summary>
    public async Task<IActionResult> OnPostRembourserAsync(CancellationToken ct)
    {
        if (string.IsNullOrEmpty(SaleId) || string.IsNullOrEmpty(Attempt) || Attempt.Length > 40 || !Attempt.All(char.IsAsciiLetterOrDigit) || RefundAmount <= 0)
        {
            return LocalReturn.To(Retour, "/encaisser");
        }

        var id = "web-" + Attempt;
        var result = Kind == "card"
            ? await gateway.PostAsync(gateway.Merchant($"terminal/payments/{Uri.EscapeDataString(SaleId)}/refunds"), new { refundId = id, amount = RefundAmount }, ct)
            : await gateway.PostAsync(gateway.Merchant($"cash/machines/{Uri.EscapeDataString(DeviceId ?? "")}/payouts"),
                new { requestId = id, amount = RefundAmount, saleOperationId = SaleId }, ct);
        var euros = Aujourdhui.AujourdhuiModel.Euros(RefundAmount);
        if (result.Ok)
        {
            TempData["Sales.Refunded"] = t[Kind == "card" ? "Sales.RefundedCard" : "Sales.RefundedCash", euros].Value;
        }
        else
        {
            TempData["Sales.RefundError"] = result.Code is "machine_offline" or "machine_busy" ? t["Checkout.Refused." + result.Code].Value : result.Message;
        }

        return LocalReturn.To(Retour, "/encaisser");
    }

    /// <summary>Asks the machine its content now (it is then kept as « last counted »).</summary>
    public async Task<IActionResult> OnPostRecompterAsync(CancellationToken ct)
    {
        if (Guid.TryParse(DeviceId, out var machine))
        {
            var result = await gateway.GetAsync(gateway.Merchant($"cash/machines/{machine}/inventory"), ct);
            if (!result.Ok)
            {
                TempData["Sales.RefundError"] = result.Code is "machine_offline" or "machine_busy" ? t["Checkout.Refused." + result.Code].Value : result.Message;
            }
        }

        return LocalReturn.To(Retour, "/especes");
    }

    private PageResult Refused()
    {
        // The next submission is a new sale: this one was refused, or started with other figures.
        Attempt = NewAttempt();
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private static string NewAttempt() => Guid.NewGuid().ToString("N");

    private async Task LoadAsync(CancellationToken ct)
    {
        var sales = new Sales(gateway);
        Devices = [.. await sales.ReadersAsync(ct), .. await sales.MachinesAsync(ct)];
    }
}
