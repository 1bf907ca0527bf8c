using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;

namespace Fidpass.Loyalty.Members;

// Events of a member's stream (stream id = member UUID = the card's barcode). They are private to
// loyalty; LoyaltyEventRelay maps them to the public contracts.

public sealed record MemberEnrolled(Guid MemberId, Guid MerchantId, string Name, string Email, DateTimeOffset At);

/// <param name="AmountCents">The sale amount the points were computed from, if any (reversals are proportional to it).</param>
/// <param name="CapDay">The merchant's calendar day the credit counts towards for the daily cap.</param>
public sealed record PointsCredited(
    Guid OperationId, Guid MemberId, Guid MerchantId, long Points, long NewBalance, PointsSource Source,
    string? PaymentId, long AmountCents, DateOnly CapDay, DateTimeOffset At);

/// <param name="Delta">Signed change (a manual adjustment may go down, never below zero).</param>
public sealed record PointsAdjusted(Guid OperationId, Guid MemberId, Guid MerchantId, long Delta, long NewBalance, string Reason, DateTimeOffset At);

public sealed record RewardRedeemed(Guid OperationId, Guid MemberId, Guid MerchantId, string RewardName, long Points, long NewBalance, DateTimeOffset At)
{
    /// <summary>The catalogue reward taken; null for a reward named freely by the till.</summary>
    public Guid? RewardId { get; init; }
}

/// <param name="RefundedCents">How much of the credited amount this reversal accounts for (cumulated per credit).</param>
public sealed record CreditReversed(
    Guid OperationId, Guid ReversedOperationId, Guid MemberId, Guid MerchantId, long Points, long NewBalance,
    long RefundedCents, string? RefundId, DateTimeOffset At);

/// <summary>Points expired under the programme's rule (see <c>Expiry/Expire.cs</c>).</summary>
/// <param name="Rule"><c>inactivity</c> or <c>age</c>.</param>
/// <param name="DueOn">The merchant's day they were due to expire (the latest one when several credits expire together).</param>
public sealed record PointsExpired(
    Guid OperationId, Guid MemberId, Guid MerchantId, long Points, long NewBalance, string Rule, DateOnly DueOn, DateTimeOffset At);

/// <summary>GDPR erasure: the person's identity is gone, the ledger's numbers stay.</summary>
public sealed record MemberErased(Guid MemberId, Guid MerchantId, DateTimeOffset At);

/// <summary>
/// A member's state, rebuilt from its stream and kept inline as a snapshot document: it is both the
/// write model (Decide functions read it, its version guards concurrent writers) and the read model
/// (lookup, search). Email is stored lower-case; a unique index on (MerchantId, Email) makes
/// enrolment idempotent in the database. <see cref="LastActivityAt"/> is the last time the member
/// earned points or took a reward: what expiry after inactivity counts from (a refund, a merchant's
/// correction or an expiry is not the member's activity).
/// </summary>
public sealed record Member(
    Guid Id,
    Guid MerchantId,
    string Name,
    string? Email,
    long Points,
    DateTimeOffset? LastVisitAt,
    DateTimeOffset EnrolledAt,
    bool Erased,
    DateOnly CapDay,
    long PointsOnCapDay,
    DateTimeOffset? LastActivityAt = null)
{
    public const string ErasedName = "Membre supprimé";

    public static Member Create(MemberEnrolled e) =>
        new(e.MemberId, e.MerchantId, e.Name, e.Email, 0, null, e.At, false, DateOnly.MinValue, 0);

    /// <summary>The credit that set <see cref="LastVisitAt"/>, and the visit before it: a credit cancelled at the till was no visit.</summary>
    public Guid? LastVisitOperationId { get; init; }

    /// <summary>The 8-character code a cashier can type instead of scanning (<see cref="ShortCodes"/>); null for members enrolled before codes, until their first read.</summary>
    public string? ShortCode { get; init; }

    public Member Apply(ShortCodeAssigned e) => this with { ShortCode = e.Code };

    public DateTimeOffset? VisitBeforeLast { get; init; }

    public Member Apply(PointsCredited e) => this with
    {
        Points = e.NewBalance,
        LastVisitAt = e.At,
        LastVisitOperationId = e.OperationId,
        VisitBeforeLast = LastVisitAt,
        CapDay = e.CapDay,
        PointsOnCapDay = (e.CapDay == CapDay ? PointsOnCapDay : 0) + e.Points,
        LastActivityAt = e.At,
    };

    public Member Apply(PointsAdjusted e) => this with { Points = e.NewBalance };

    public Member Apply(RewardRedeemed e) => this with { Points = e.NewBalance, LastActivityAt = e.At };

    // A refund (RefundId) follows a sale that happened; an undo at the till (no refund) says the visit did not.
    public Member Apply(CreditReversed e) => e.RefundId is null && e.ReversedOperationId == LastVisitOperationId
        ? this with { Points = e.NewBalance, LastVisitAt = VisitBeforeLast, LastVisitOperationId = null }
        : this with { Points = e.NewBalance };

    public Member Apply(MemberErased e) => this with { Name = ErasedName, Email = null, Erased = true };

    public Member Apply(PointsExpired e) => this with { Points = e.NewBalance };

    public long PointsCreditedOn(DateOnly day) => day == CapDay ? PointsOnCapDay : 0;
}
