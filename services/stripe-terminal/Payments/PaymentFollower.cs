using Marten;
using Stripe;

namespace Fidpass.StripeTerminal.Payments;

/// <summary>
/// The fallback when webhooks are late or lost (spec 7.7): sales still processing after
/// <c>Stripe:PollAfterSeconds</c> are read back from Stripe, for at most <c>Stripe:PollForMinutes</c>.
/// Pending refunds are read back the same way. Also the sweeper of forgotten manual authorisations: after <c>Stripe:ManualCaptureTimeoutMinutes</c>
/// they are cancelled (reason <c>abandoned</c>) so the cardholder's hold is released.
/// </summary>
public sealed class PaymentFollower(IDocumentStore store, CardPayments payments, TimeProvider clock, IConfiguration configuration, ILogger<PaymentFollower> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(configuration.GetValue("Stripe:PollIntervalMilliseconds", 2000));
        using var timer = new PeriodicTimer(interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is StripeException or Npgsql.NpgsqlException or TimeoutException or HttpRequestException)
            {
                logger.LogWarning(ex, "Card payment follow-up failed; next round in {Interval}", interval);
            }
        }
    }

    public async Task SweepAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var pollAfter = now.AddSeconds(-configuration.GetValue("Stripe:PollAfterSeconds", 5.0));
        var pollSince = now.AddMinutes(-configuration.GetValue("Stripe:PollForMinutes", 15.0));
        var abandonBefore = now.AddMinutes(-configuration.GetValue("Stripe:ManualCaptureTimeoutMinutes", 60.0));

        IReadOnlyList<CardPayment> open;
        IReadOnlyList<CardPayment> forgotten;
        IReadOnlyList<CardPayment> refunding;
        await using (var session = store.QuerySession())
        {
            open = await session.Query<CardPayment>()
                .Where(p => p.AttemptOpen && p.UpdatedAt < pollAfter && p.UpdatedAt > pollSince)
                .Take(50).ToListAsync(ct);
            // A pending refund is read back like a late payment, for PollForMinutes; after that its
            // refund.updated / refund.failed webhook (or the till sending the refund again) settles it.
            refunding = await session.Query<CardPayment>()
                .Where(p => p.RefundPending && p.UpdatedAt < pollAfter && p.UpdatedAt > pollSince)
                .OrderBy(p => p.UpdatedAt).Take(50).ToListAsync(ct);
            forgotten = await session.Query<CardPayment>()
                .Where(p => p.Status == CardPaymentStatus.Authorized && p.AuthorizedAt < abandonBefore)
                .Take(50).ToListAsync(ct);
        }

        foreach (var payment in open)
        {
            await payments.ReconcileAsync(payment, ct);
        }

        foreach (var payment in refunding)
        {
            await payments.ReconcileRefundsAsync(payment, ct);
        }

        foreach (var payment in forgotten)
        {
            await payments.CancelAsync(payment, "abandoned", ct);
        }
    }
}
