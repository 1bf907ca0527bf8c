using System.Diagnostics.Metrics;
using Fidpass.ServiceDefaults;

namespace Fidpass.Loyalty.Payments;

/// <summary>
/// The decision taken for each <c>PaymentCollected</c> that carries a member, counted once it is
/// stored (or found stored: <c>duplicate</c>). The "payments without credit" alert compares these
/// with the payments the collecting services counted: a gap is a payment loyalty never decided on.
/// </summary>
public static class PaymentMetrics
{
    public const string Credited = "credited";
    public const string BelowMinimum = "below_minimum";
    /// <summary>Eligible, but the rules gave no point (daily cap reached, zero points per euro).</summary>
    public const string NothingEarned = "nothing_earned";
    public const string NotEligible = "not_eligible";
    public const string UnknownMember = "unknown_member";
    public const string Duplicate = "duplicate";

    private static readonly Counter<long> Outcomes = new Meter(Telemetry.FidpassSource)
        .CreateCounter<long>("fidpass.payment.credit.outcomes", description: "Credit decisions for payments carrying a member.");

    public static void Record(string outcome) => Outcomes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
