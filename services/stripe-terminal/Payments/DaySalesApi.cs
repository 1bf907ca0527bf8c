using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.StripeTerminal.Payments;

/// <summary>
/// One card sale in the merchant's day list. <c>State</c> is what the merchant reads (collected,
/// refunded…), <c>Status</c> the payment's own status (as on <c>GET …/payments/{saleId}</c>).
/// </summary>
public sealed record CardSaleSummary(
    string SaleId, string ReaderId, string? TillId, long Amount, string Currency, string Status, string State,
    long AmountReceived, long AmountRefunded, long AmountRefundPending, long Refundable, Guid? MemberId,
    DateTimeOffset StartedAt, DateTimeOffset UpdatedAt, string? ErrorMessage)
{
    public static CardSaleSummary From(CardPayment p)
    {
        var view = CardPaymentView.From(p);
        return new(p.SaleId, p.ReaderId, p.TillId, p.Amount, p.Currency, view.Status, StateOf(p), p.AmountReceived, p.AmountRefunded,
            p.RefundPendingAmount, p.Status == CardPaymentStatus.Succeeded ? p.Refundable() : 0, p.MemberId, p.StartedAt, p.UpdatedAt,
            p.LastErrorMessage);
    }

    /// <summary>
    /// in_progress, authorized, collected, partially_refunded, refunded, cancelled, declined, failed.
    /// A refund asked and not settled yet counts as given back: the money is on its way to the customer.
    /// </summary>
    public static string StateOf(CardPayment p) => p.Status switch
    {
        CardPaymentStatus.Succeeded when p.AmountRefunded + p.RefundPendingAmount >= p.AmountReceived && p.AmountReceived > 0 => "refunded",
        CardPaymentStatus.Succeeded when p.AmountRefunded + p.RefundPendingAmount > 0 => "partially_refunded",
        CardPaymentStatus.Succeeded => "collected",
        CardPaymentStatus.Authorized => "authorized",
        CardPaymentStatus.Canceled => "cancelled",
        CardPaymentStatus.Declined => "declined",
        CardPaymentStatus.ReaderFailed => "failed",
        _ => "in_progress",
    };
}

public sealed record CardSalesOfDay(string Date, string TimeZone, IReadOnlyList<CardSaleSummary> Items);

public static class DaySalesApi
{
    public static RouteGroupBuilder MapDaySalesApi(this RouteGroupBuilder group)
    {
        group.MapGet("/payments", ListAsync)
            .WithSummary("Ventes par carte d'un jour (heure de Paris), les plus récentes d'abord")
            .WithDescription("« date » au format AAAA-MM-JJ, aujourd'hui par défaut. Chaque vente dit son état pour le commerçant (state) : "
                + "in_progress (sur le lecteur), authorized, collected, partially_refunded, refunded, cancelled, declined, failed ; "
                + "refundable est ce qui peut encore être remboursé, en centimes.")
            .Produces<CardSalesOfDay>().ProducesProblem(400);
        return group;
    }

    private static async Task<IResult> ListAsync(HttpContext http, string? date, IQuerySession session, TimeProvider clock, CancellationToken ct)
    {
        if (!ParisDay.TryRead(date, clock.GetUtcNow(), out var day, out var from, out var to))
        {
            return ParisDay.InvalidDate();
        }

        var merchant = http.Merchant().MerchantId;
        var sales = await session.Query<CardPayment>()
            .Where(p => p.MerchantId == merchant && p.StartedAt >= from && p.StartedAt < to)
            .OrderByDescending(p => p.StartedAt)
            .Take(500)
            .ToListAsync(ct);
        return TypedResults.Ok(new CardSalesOfDay(ParisDay.Format(day), ParisDay.TimeZoneId, [.. sales.Select(CardSaleSummary.From)]));
    }
}
