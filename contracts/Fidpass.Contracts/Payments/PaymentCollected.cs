namespace Fidpass.Contracts.Payments;

/// <summary>How the money was collected.</summary>
public enum PaymentMethod
{
    /// <summary>Card payment on a Stripe Terminal reader.</summary>
    Card = 1,

    /// <summary>Cash inserted in a Cashlogy machine.</summary>
    Cash = 2,
}

/// <summary>
/// Money was really collected from a customer (card approved and captured, or cash counted by the
/// machine). Published once per payment by stripe-terminal or cashlogy-edge; loyalty credits the
/// attached member from it.
/// </summary>
/// <param name="PaymentId">Globally unique and stable: the Stripe PaymentIntent id (<c>pi_…</c>) or
/// <c>cash:&lt;machine&gt;:&lt;operation&gt;</c>. Consumers deduplicate on it.</param>
/// <param name="MerchantId">The merchant who collected the money.</param>
/// <param name="Amount">Amount collected, in minor units of <paramref name="Currency"/> (cents).</param>
/// <param name="Currency">ISO-4217 code, lower case as in Stripe (<c>eur</c>).</param>
/// <param name="Method">Card or cash.</param>
/// <param name="SourceDeviceId">The reader (<c>tmr_…</c>) or cash machine that collected it.</param>
/// <param name="MemberId">The loyalty card attached to the sale, if any.</param>
/// <param name="BasketReference">Optional till reference shared by the parts of a split payment
/// (card + cash), so they count as one purchase.</param>
/// <param name="OccurredAt">When the money was collected (UTC).</param>
public sealed record PaymentCollected(
    string PaymentId,
    Guid MerchantId,
    long Amount,
    string Currency,
    PaymentMethod Method,
    string SourceDeviceId,
    Guid? MemberId,
    string? BasketReference,
    DateTimeOffset OccurredAt);
