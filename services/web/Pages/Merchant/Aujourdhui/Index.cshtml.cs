using System.Globalization;
using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages.Merchant.Aujourdhui;

public sealed record Tally(long Count, long AmountCents);

/// <summary>« Aujourd'hui »: the day's points and money collected, from loyalty's day totals (Paris day).</summary>
public sealed class AujourdhuiModel(GatewayClient gateway) : PageModel
{
    public DateOnly Day { get; private set; }
    public long PointsCredited { get; private set; }
    public long Credits { get; private set; }
    public long CreditsFromPayments { get; private set; }
    public long PointsReversed { get; private set; }
    public Tally Card { get; private set; } = new(0, 0);
    public Tally Cash { get; private set; } = new(0, 0);
    public Tally Payments { get; private set; } = new(0, 0);
    public Tally Refunds { get; private set; } = new(0, 0);
    public string? Error { get; private set; }

    /// <summary>Minor units as the French write euros: « 1 234,50 € ».</summary>
    public static string Euros(long cents) => (cents / 100m).ToString("#,##0.00", CultureInfo.GetCultureInfo("fr-FR")) + "\u00a0€";

    public async Task OnGetAsync(CancellationToken ct)
    {
        var result = await gateway.GetAsync(gateway.Merchant("day-totals"), ct);
        if (!result.Ok)
        {
            Error = result.Message;
            return;
        }

        var body = result.Body;
        Day = DateOnly.TryParseExact(body.Text("day"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : default;
        var points = body.GetProperty("points");
        PointsCredited = points.Number("credited");
        Credits = points.Number("credits");
        CreditsFromPayments = points.Number("creditsFromPayments");
        PointsReversed = points.TryGetProperty("reversed", out _) ? points.Number("reversed") : 0;
        var payments = body.GetProperty("payments");
        Payments = new Tally(payments.Number("count"), payments.Number("amountCents"));
        Card = new Tally(payments.GetProperty("card").Number("count"), payments.GetProperty("card").Number("amountCents"));
        Cash = new Tally(payments.GetProperty("cash").Number("count"), payments.GetProperty("cash").Number("amountCents"));
        var refunds = body.GetProperty("refunds");
        Refunds = new Tally(refunds.Number("count"), refunds.Number("amountCents"));
    }
}
