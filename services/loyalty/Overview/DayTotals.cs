using System.Globalization;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Payments;
using Fidpass.ServiceDefaults;
using Marten;
using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;

namespace Fidpass.Loyalty.Overview;

/// <summary>
/// The merchant's day at a glance (web space « Aujourd'hui »): points credited (net of reversals), payments collected
/// by card and by cash, refunds. A "day" is the merchant's calendar day in France (Europe/Paris),
/// as for the daily cap. Each credit, payment and refund record carries an indexed key
/// <c>merchant:day</c> written with it, so a day is one indexed lookup per kind, not a scan of the ledger.
/// </summary>
public static class DayTotals
{
    public const string Currency = "eur";

    /// <summary>The index key of a record: the merchant and its calendar day.</summary>
    public static string Key(Guid merchantId, DateOnly day) => $"{merchantId:N}:{day:yyyy-MM-dd}";

    public static string Key(Guid merchantId, DateTimeOffset at) => Key(merchantId, CreditDecider.MerchantDay(at));

    public static IEndpointRouteBuilder MapDayTotalsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/merchants/{slug}/day-totals", GetAsync).WithTags("Vue d'ensemble")
            .WithSummary("Les points et les encaissements d'une journée (aujourd'hui à Paris par défaut, ou ?day=AAAA-MM-JJ)")
            .ProducesProblem(400);
        return app;
    }

    public sealed record Tally(long Count, long AmountCents);

    public sealed record Summary(
        string Day, long PointsCredited, long Credits, long CreditsFromPayments, Tally Card, Tally Cash, Tally Payments, Tally Refunds, long PointsReversed = 0);

    /// <summary>
    /// Pure: the day's figures from its records. Credits count what still stands: the points of the
    /// day's credits minus what reversals (a cancellation at the till, a refund) took back since, and
    /// only the credits with points left. Only euro payments are summed (amounts are minor units of one currency).
    /// </summary>
    public static Summary Summarise(DateOnly day, IEnumerable<OperationRecord> credits, IEnumerable<PaymentRecord> payments, IEnumerable<RefundRecord> refunds)
    {
        var all = credits.ToList();
        var creditList = all.Where(c => c.Points > c.ReversedPoints).ToList();
        var euros = payments.Where(p => string.Equals(p.Currency, Currency, StringComparison.OrdinalIgnoreCase)).ToList();
        var card = Sum(euros.Where(p => p.Method == PaymentRecord.Card).Select(p => p.AmountCents));
        var cash = Sum(euros.Where(p => p.Method == PaymentRecord.Cash).Select(p => p.AmountCents));
        var refunded = Sum(refunds.Where(r => string.Equals(r.Currency, Currency, StringComparison.OrdinalIgnoreCase)).Select(r => r.AmountCents));
        return new Summary(
            day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            creditList.Sum(c => c.Points - c.ReversedPoints),
            creditList.Count,
            creditList.Count(c => c.Source == PointsSource.Payment),
            card,
            cash,
            new Tally(card.Count + cash.Count, card.AmountCents + cash.AmountCents),
            refunded,
            all.Sum(c => c.ReversedPoints));
    }

    private static Tally Sum(IEnumerable<long> amounts)
    {
        var list = amounts.ToList();
        return new Tally(list.Count, list.Sum());
    }

    private static async Task<IResult> GetAsync(string slug, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Members, out var identity) is { } denied)
        {
            return denied;
        }

        var asked = request.Query["day"];
        var day = CreditDecider.MerchantDay(DateTimeOffset.UtcNow);
        if (asked.Count > 1 || (asked.Count == 1 && !DateOnly.TryParseExact(asked[0], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day)))
        {
            return ApiProblems.Problem(400, "INVALID_DAY", "day est une date unique au format AAAA-MM-JJ, par exemple 2025-03-14.");
        }

        var key = Key(identity.MerchantId, day);
        var batch = session.CreateBatchQuery();
        var credits = batch.Query<OperationRecord>().Where(r => r.MerchantDay == key).ToList();
        var payments = batch.Query<PaymentRecord>().Where(r => r.MerchantDay == key).ToList();
        var refunds = batch.Query<RefundRecord>().Where(r => r.MerchantDay == key).ToList();
        await batch.Execute(ct);
        var summary = Summarise(day, await credits, await payments, await refunds);
        return Results.Json(new
        {
            day = summary.Day,
            timeZone = "Europe/Paris",
            currency = Currency,
            points = new { credited = summary.PointsCredited, credits = summary.Credits, creditsFromPayments = summary.CreditsFromPayments, reversed = summary.PointsReversed },
            payments = new
            {
                count = summary.Payments.Count,
                amountCents = summary.Payments.AmountCents,
                card = new { count = summary.Card.Count, amountCents = summary.Card.AmountCents },
                cash = new { count = summary.Cash.Count, amountCents = summary.Cash.AmountCents },
            },
            refunds = new { count = summary.Refunds.Count, amountCents = summary.Refunds.AmountCents },
        });
    }
}
