namespace Fidpass.Contracts.Loyalty;

/// <summary>Where a points operation came from.</summary>
public enum PointsSource
{
    /// <summary>A till or kiosk through the integration API.</summary>
    Integration = 1,

    /// <summary>The merchant in the web space (Caisse rapide / Scanner).</summary>
    WebScanner = 2,

    /// <summary>A collected card or cash payment.</summary>
    Payment = 3,

    /// <summary>A manual adjustment with a reason.</summary>
    Adjustment = 4,
}

/// <summary>A member enrolled in a merchant's program.</summary>
/// <param name="MemberId">The member's UUID, printed as the card's barcode.</param>
/// <param name="MerchantId">The merchant.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record MemberEnrolled(Guid MemberId, Guid MerchantId, DateTimeOffset OccurredAt)
{
    /// <summary>
    /// The first word of the name the member enrolled with, as their card shows it (wallet passes);
    /// null from publishers older than this field. Never the full name nor the e-mail.
    /// </summary>
    public string? FirstName { get; init; }
}

/// <summary>Points were added to a member's balance.</summary>
/// <param name="OperationId">Unique id of the crediting operation (deduplication key).</param>
/// <param name="MemberId">The member credited.</param>
/// <param name="MerchantId">The merchant.</param>
/// <param name="Points">Points added (positive).</param>
/// <param name="NewBalance">Balance after the credit.</param>
/// <param name="Source">Where the credit came from.</param>
/// <param name="PaymentId">The payment that earned the points, when <paramref name="Source"/> is a payment.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record PointsCredited(
    Guid OperationId,
    Guid MemberId,
    Guid MerchantId,
    long Points,
    long NewBalance,
    PointsSource Source,
    string? PaymentId,
    DateTimeOffset OccurredAt);

/// <summary>Points were taken from a member's balance (reward, adjustment down).</summary>
/// <param name="OperationId">Unique id of the operation.</param>
/// <param name="MemberId">The member.</param>
/// <param name="MerchantId">The merchant.</param>
/// <param name="Points">Points removed (positive).</param>
/// <param name="NewBalance">Balance after the debit.</param>
/// <param name="Reason">Why (French, as the merchant typed it or as the system states it).</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record PointsDebited(
    Guid OperationId,
    Guid MemberId,
    Guid MerchantId,
    long Points,
    long NewBalance,
    string Reason,
    DateTimeOffset OccurredAt);

/// <summary>Points earned by an earlier operation were taken back (refund, reversal).</summary>
/// <param name="OperationId">Unique id of the reversal.</param>
/// <param name="ReversedOperationId">The crediting operation being reversed.</param>
/// <param name="MemberId">The member.</param>
/// <param name="MerchantId">The merchant.</param>
/// <param name="Points">Points taken back (positive).</param>
/// <param name="NewBalance">Balance after the reversal.</param>
/// <param name="RefundId">The refund that caused it, if any.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record PointsReversed(
    Guid OperationId,
    Guid ReversedOperationId,
    Guid MemberId,
    Guid MerchantId,
    long Points,
    long NewBalance,
    string? RefundId,
    DateTimeOffset OccurredAt);

/// <summary>A member exchanged points for a reward.</summary>
/// <param name="OperationId">Unique id of the redemption.</param>
/// <param name="MemberId">The member.</param>
/// <param name="MerchantId">The merchant.</param>
/// <param name="RewardName">The reward's name.</param>
/// <param name="Points">Points spent (positive).</param>
/// <param name="NewBalance">Balance after the redemption.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record RewardRedeemed(
    Guid OperationId,
    Guid MemberId,
    Guid MerchantId,
    string RewardName,
    long Points,
    long NewBalance,
    DateTimeOffset OccurredAt);

/// <summary>The merchant's rule under which points expired.</summary>
public enum PointsExpiryRule
{
    /// <summary>The whole balance, after the programme's number of months without activity (no credit, no reward).</summary>
    Inactivity = 1,

    /// <summary>Each credit, the programme's number of months after the day it was earned (oldest first).</summary>
    Age = 2,
}

/// <summary>Points expired under the merchant's expiry rule (never more than once for the same points).</summary>
/// <param name="OperationId">Unique id of the expiry (deduplication key).</param>
/// <param name="MemberId">The member.</param>
/// <param name="MerchantId">The merchant.</param>
/// <param name="Points">Points removed (positive).</param>
/// <param name="NewBalance">Balance after the expiry.</param>
/// <param name="Rule">The rule that made them expire.</param>
/// <param name="DueOn">The merchant's calendar day (Europe/Paris) the points were due to expire; for several credits expired together, the latest of their days.</param>
/// <param name="OccurredAt">When the expiry was recorded (UTC), on or after <paramref name="DueOn"/>.</param>
public sealed record PointsExpired(
    Guid OperationId,
    Guid MemberId,
    Guid MerchantId,
    long Points,
    long NewBalance,
    PointsExpiryRule Rule,
    DateOnly DueOn,
    DateTimeOffset OccurredAt);
