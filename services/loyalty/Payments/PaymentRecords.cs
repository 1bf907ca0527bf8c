using Fidpass.Loyalty.Programs;

namespace Fidpass.Loyalty.Payments;

/// <summary>
/// Every PaymentCollected seen, stored in the same transaction as the credit it caused: its id
/// (merchant + PaymentId) is the deduplication key, so redelivery, duplicates and restarts never
/// credit twice. Also how a refund finds the operation to reverse, and what the day's totals sum
/// (<see cref="MerchantDay"/>: merchant + Paris day, indexed; absent on records older than it).
/// Optimistic concurrency orders a collection and the refunds that came before it.
/// </summary>
public sealed record PaymentRecord(
    string Id, string PaymentId, Guid MerchantId, long AmountCents, Guid? MemberId, string? BasketId,
    Guid? OperationId, Guid? CreditedMemberId, DateTimeOffset At,
    string? Method = null, string? Currency = null, string? MerchantDay = null, IReadOnlyList<string>? RefundsBeforeCollection = null)
{
    public const string Card = "card";
    public const string Cash = "cash";

    public static string DocumentId(Guid merchantId, string paymentId) => $"{merchantId:N}:{paymentId}";

    /// <summary>
    /// Stands for a payment whose refunds came before its collection; <see cref="RefundsBeforeCollection"/>
    /// lists them (refund document ids). No day, so the day's totals do not count it as a payment.
    /// </summary>
    public static PaymentRecord AwaitingCollection(string id, string paymentId, Guid merchantId, DateTimeOffset at) =>
        new(id, paymentId, merchantId, 0, null, null, null, null, at, RefundsBeforeCollection: []);

    public static string MethodName(Fidpass.Contracts.Payments.PaymentMethod method) =>
        method == Fidpass.Contracts.Payments.PaymentMethod.Cash ? Cash : Card;
}

/// <summary>A PaymentRefunded already applied (id = merchant + "refund:" + RefundId), counted on the day it happened.</summary>
public sealed record RefundRecord(
    string Id, string RefundId, string PaymentId, long AmountCents, DateTimeOffset At,
    Guid MerchantId = default, string? Method = null, string? Currency = null, string? MerchantDay = null)
{
    public static string DocumentId(Guid merchantId, string refundId) => $"{merchantId:N}:refund:{refundId}";
}

public sealed record BasketPart(string PaymentId, long AmountCents, Guid? MemberId);

/// <summary>
/// The parts of one purchase paid in several ways (card + cash) sharing a till's BasketReference.
/// Rule: the basket is one purchase. Nothing is credited while its total is under the merchant's
/// minimum amount (or while no part names a member). The part that makes it eligible credits
/// floor(total × pointsPerEuro / 100) plus the visit points, once; a part arriving after that
/// credits only the increase floor(new total × ppe / 100) − floor(credited total × ppe / 100), so
/// the member ends with exactly what one payment of the total would have given. Each part's
/// PaymentRecord names the operation that covered it, for refunds. Document id = merchant + reference;
/// optimistic concurrency serialises parts consumed at the same time.
/// </summary>
public sealed record Basket(string Id, Guid MerchantId, IReadOnlyList<BasketPart> Parts, long CreditedCents, Guid? CreditOperationId)
{
    public static string DocumentId(Guid merchantId, string reference) => $"{merchantId:N}:{reference}";

    public long TotalCents => Parts.Sum(p => p.AmountCents);

    public Guid? MemberId => Parts.Select(p => p.MemberId).FirstOrDefault(m => m is not null);
}

public static class PaymentRules
{
    /// <summary>Only euro payments within the plausible range earn points; the rules are written per euro.</summary>
    public static bool Earns(Fidpass.Contracts.Payments.PaymentCollected payment) =>
        string.Equals(payment.Currency, "eur", StringComparison.OrdinalIgnoreCase) && payment.Amount is > 0 and <= Money.MaxCents;

    /// <summary>
    /// What a payment (alone, or as the newest part of <paramref name="basket"/>) earns: the points input
    /// and the amount the credit is measured against; null when it earns nothing yet.
    /// </summary>
    public static (PointsInput Input, long AmountBasisCents)? Earn(LoyaltyProgram program, Basket basket)
    {
        var total = basket.TotalCents;
        if (total < program.MinAmountCents)
        {
            return null;
        }

        if (basket.CreditedCents == 0)
        {
            return (new PointsInput(total, Visit: true, null), total);
        }

        var increase = (total * program.PointsPerEuro / 100) - (basket.CreditedCents * program.PointsPerEuro / 100);
        var part = basket.Parts[^1].AmountCents;
        return increase > 0 ? (new PointsInput(null, false, increase), part) : null;
    }
}
