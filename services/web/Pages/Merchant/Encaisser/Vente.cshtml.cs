using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages.Merchant.Encaisser;

/// <summary>A sale started from « Encaisser », followed until it ends (the page refreshes itself while it runs).</summary>
public sealed class VenteModel(GatewayClient gateway) : PageModel
{
    public string Kind { get; private set; } = "";
    public string Id { get; private set; } = "";
    public long Amount { get; private set; }
    public long Inserted { get; private set; }
    public string State { get; private set; } = "in_progress";
    public string? Detail { get; private set; }
    public string? Loyalty { get; private set; }
    public bool WithMember { get; private set; }
    public string? Error { get; private set; }

    public bool InProgress => State is "in_progress" or "unknown";

    public async Task<IActionResult> OnGetAsync(string kind, string id, CancellationToken ct)
    {
        if (kind is not ("card" or "cash"))
        {
            return NotFound();
        }

        (Kind, Id) = (kind, id);
        var sale = kind == "card" ? await CardAsync(id, ct) : await gateway.GetAsync(gateway.Merchant($"cash/operations/{Uri.EscapeDataString(id)}"), ct);
        if (!sale.Ok)
        {
            return sale.Status == System.Net.HttpStatusCode.NotFound ? NotFound() : Failed(sale.Message);
        }

        var b = sale.Body;
        Amount = b.Number("amount");
        WithMember = b.Text("memberId").Length > 0;
        Loyalty = b.TryGetProperty("loyalty", out var loyalty) && loyalty.ValueKind == System.Text.Json.JsonValueKind.Object && loyalty.Text("message") is { Length: > 0 } m
            ? m
            : null;
        if (kind == "card")
        {
            State = b.Text("status") switch
            {
                "succeeded" when b.Number("amountRefunded") + b.Number("amountRefundPending") >= b.Number("amountReceived") => "refunded",
                "succeeded" => "collected",
                "authorized" => "authorized",
                "declined" => "declined",
                "reader_failed" => "failed",
                "canceled" => "cancelled",
                _ => "in_progress",
            };
            Detail = b.Text("nextStep") is { Length: > 0 } next ? next : b.Text("errorMessage") is { Length: > 0 } e ? e : null;
        }
        else
        {
            Inserted = b.TryGetProperty("progress", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.Object ? p.Number("inserted") : 0;
            State = (b.Text("status"), b.Text("outcome")) switch
            {
                ("settled", _) when b.Number("collected") > 0 => "collected",
                ("settled", "cancelled") => "cancelled",
                ("settled", "rejected") => "rejected",
                ("settled", "needs_attention") => "needs_attention",
                ("settled", _) => "failed",
                ("unknown", _) => "unknown",
                _ => "in_progress",
            };
            Detail = b.Text("detail") is { Length: > 0 } d ? d : null;
        }

        return Page();
    }

    /// <summary>Cancels the sale while the customer has not paid: on the reader, or the machine gives back what was inserted.</summary>
    public async Task<IActionResult> OnPostAsync(string kind, string id, CancellationToken ct)
    {
        var path = kind == "card" ? $"terminal/payments/{Uri.EscapeDataString(id)}/cancel" : $"cash/operations/{Uri.EscapeDataString(id)}/cancel";
        var result = await gateway.PostAsync(gateway.Merchant(path), new { }, ct);
        if (!result.Ok && result.Code is not ("operation_not_running" or "payment_already_collected"))
        {
            TempData["Sales.RefundError"] = result.Message;
        }

        return Redirect($"/encaisser/vente/{kind}/{Uri.EscapeDataString(id)}");
    }

    /// <summary>A card sale read back from Stripe while it runs, so the outcome shows without waiting for a webhook.</summary>
    private async Task<GatewayResult> CardAsync(string id, CancellationToken ct)
    {
        var path = $"terminal/payments/{Uri.EscapeDataString(id)}";
        var sale = await gateway.GetAsync(gateway.Merchant(path), ct);
        if (sale.Ok && sale.Body.Text("status") is "processing" or "started")
        {
            var checkedNow = await gateway.PostAsync(gateway.Merchant(path + "/check"), new { }, ct);
            return checkedNow.Ok ? checkedNow : sale;
        }

        return sale;
    }

    private PageResult Failed(string? message)
    {
        Error = message;
        return Page();
    }
}
