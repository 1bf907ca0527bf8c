using System.Diagnostics.Metrics;
using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Payments;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// The business counters the dashboards and alerts read (docs/operations.md, "Metrics"). They are
/// counted where a fact leaves its service: when <see cref="EventRelay"/> publishes the stored event.
/// Labels stay few: never a member, payment or amount.
/// </summary>
public static class BusinessMetrics
{
    private static readonly Meter Meter = new(Telemetry.FidpassSource);
    private static readonly Counter<long> PointsCredited = Meter.CreateCounter<long>("fidpass.points.credited", "{point}", "Points credited.");
    private static readonly Counter<long> PointsReversed = Meter.CreateCounter<long>("fidpass.points.reversed", "{point}", "Points taken back.");
    private static readonly Counter<long> PaymentsCollected = Meter.CreateCounter<long>("fidpass.payments.collected", description: "Payments collected.");
    private static readonly Counter<long> AmountCollected = Meter.CreateCounter<long>("fidpass.payments.collected.amount", "{minor_unit}", "Amount collected, in minor units.");
    private static readonly Counter<long> Refunds = Meter.CreateCounter<long>("fidpass.refunds", description: "Refunds.");

    public static void Record(object message)
    {
        switch (message)
        {
            case PointsCredited credited:
                PointsCredited.Add(credited.Points, new KeyValuePair<string, object?>("source", credited.Source switch
                {
                    PointsSource.Payment => "payment",
                    PointsSource.Adjustment => "manual",
                    _ => "scan",
                }));
                break;
            case PointsReversed reversed:
                PointsReversed.Add(reversed.Points, new KeyValuePair<string, object?>("source", reversed.RefundId is null ? "manual" : "refund"));
                break;
            case PaymentCollected collected:
                var method = collected.Method == PaymentMethod.Cash ? "cash" : "card";
                PaymentsCollected.Add(1, new("method", method), new("member", collected.MemberId is null ? "none" : "attached"));
                AmountCollected.Add(collected.Amount, new("method", method), new("currency", collected.Currency));
                break;
            case PaymentRefunded refunded:
                // Cash payment ids are "cash:<machine>:<operation>"; card ones are Stripe's pi_….
                Refunds.Add(1, new KeyValuePair<string, object?>("method", refunded.PaymentId.StartsWith("cash:", StringComparison.Ordinal) ? "cash" : "card"));
                break;
        }
    }
}
