namespace Fidpass.Contracts.Payments;

/// <summary>
/// Part or all of a collected payment was given back (Stripe refund or cash payout linked to a sale).
/// </summary>
/// <param name="RefundId">Unique per refund (<c>re_…</c> or <c>cash:&lt;machine&gt;:&lt;operation&gt;</c>);
/// consumers deduplicate on it.</param>
/// <param name="PaymentId">The <see cref="PaymentCollected.PaymentId"/> being refunded.</param>
/// <param name="MerchantId">The merchant who refunded.</param>
/// <param name="Amount">Amount refunded by this refund, in minor units.</param>
/// <param name="Currency">ISO-4217 code, lower case.</param>
/// <param name="OccurredAt">When the refund happened (UTC).</param>
public sealed record PaymentRefunded(
    string RefundId,
    string PaymentId,
    Guid MerchantId,
    long Amount,
    string Currency,
    DateTimeOffset OccurredAt);
