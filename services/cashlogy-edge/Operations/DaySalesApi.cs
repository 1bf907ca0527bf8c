using Fidpass.CashlogyEdge.Api;
using Fidpass.CashlogyEdge.Sessions;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.CashlogyEdge.Operations;

/// <summary>The merchant's cash sales of a day (charges), each with what was given back by the payouts that refund it.</summary>
public static class DaySalesApi
{
    public static IEndpointRouteBuilder MapDaySalesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/merchants/{slug}/cash/sales", ListAsync).WithTags("Cash operations")
            .WithSummary("Ventes en espèces d'un jour (heure de Paris), les plus récentes d'abord.")
            .WithDescription("« date » au format AAAA-MM-JJ, aujourd'hui par défaut. state : in_progress (sur la machine), unknown "
                + "(réponse perdue, vérifiée à la reconnexion), collected, partially_refunded, refunded, cancelled, rejected, failed, "
                + "needs_attention ; reconciled=true quand l'issue a été établie après coup à partir des comptes de la machine. "
                + "Montants en centimes ; refundable est ce qui peut encore être rendu (…/payouts avec saleOperationId).")
            .Answers(200, 400);
        return app;
    }

    public static string StateOf(CashOperation sale, long refunded, bool running)
    {
        if (sale.Status == OperationStatus.Unknown)
        {
            return "unknown";
        }

        if (sale.Result is not { } r)
        {
            // Journaled and sent, not answered: the machine is on it, or the outcome is being checked.
            return running || sale.Status == OperationStatus.Requested ? "in_progress" : "unknown";
        }

        return r.Outcome switch
        {
            _ when r.Collected > 0 && refunded >= r.Collected => "refunded",
            _ when r.Collected > 0 && refunded > 0 => "partially_refunded",
            _ when r.Collected > 0 => "collected",
            Outcome.Cancelled => "cancelled",
            Outcome.Rejected => "rejected",
            Outcome.NeedsAttention => "needs_attention",
            _ => "failed",
        };
    }

    private static async Task<IResult> ListAsync(string slug, string? date, HttpRequest request, IQuerySession session, MachineSessions sessions,
        CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        if (!ParisDay.TryRead(date, DateTimeOffset.UtcNow, out var day, out var from, out var to))
        {
            return ParisDay.InvalidDate();
        }

        var sales = await session.Query<CashOperation>()
            .Where(o => o.MerchantId == identity.MerchantId && o.Kind == OperationKind.Charge && o.RequestedAt >= from && o.RequestedAt < to)
            .OrderByDescending(o => o.RequestedAt)
            .Take(500)
            .ToListAsync(ct);
        var ids = sales.Select(s => (Guid?)s.Id).ToList();
        var refunds = ids.Count == 0
            ? []
            : await session.Query<CashOperation>().Where(o => o.MerchantId == identity.MerchantId && ids.Contains(o.SaleOperationId)).ToListAsync(ct);

        return Results.Ok(new
        {
            date = ParisDay.Format(day),
            timeZone = ParisDay.TimeZoneId,
            items = sales.Select(sale =>
            {
                var mine = refunds.Where(r => r.SaleOperationId == sale.Id).ToList();
                // A payout not settled yet counts as given back: a second refund must not exceed the sale meanwhile.
                var refunded = mine.Sum(r => r.IsSettled ? r.Result!.Dispensed : 0);
                var pending = mine.Where(r => !r.IsSettled).Sum(r => r.Amount);
                var running = sessions.Get(sale.MachineId)?.ActiveOperation == sale.Id;
                var collected = sale.Result?.Collected ?? 0;
                return new
                {
                    operationId = sale.Id,
                    machineId = sale.MachineId,
                    requestId = sale.RequestId,
                    amount = sale.Amount,
                    currency = sale.Currency,
                    state = StateOf(sale, refunded + pending, running),
                    reconciled = sale.Result?.Reconciled ?? false,
                    collected,
                    refunded,
                    refundPending = pending,
                    refundable = Math.Max(0, collected - refunded - pending),
                    progress = running ? sessions.Get(sale.MachineId)?.Progress : null,
                    memberId = sale.MemberId,
                    requestedAt = sale.RequestedAt,
                    settledAt = sale.Result?.SettledAt,
                    detail = sale.Result?.Detail,
                };
            }).ToList(),
        });
    }
}
