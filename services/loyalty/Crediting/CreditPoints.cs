using System.Text.Json;
using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;

namespace Fidpass.Loyalty.Crediting;

/// <summary>A refusal a till can act on: HTTP status, stable code, French message.</summary>
public sealed record Refusal(int Status, string Code, string Message);

/// <param name="AmountBasisCents">The amount a later refund is measured against, when it differs from the input's amount (a split basket).</param>
public sealed record CreditPoints(Guid OperationId, PointsInput Input, PointsSource Source, string? PaymentId, bool ClampToCaps, long? AmountBasisCents = null);

public static class CreditDecider
{
    /// <summary>Upper bound for points sent by a till in one operation (beyond it, a unit mistake).</summary>
    public const long MaxExplicitPoints = 1_000_000;

    private static readonly TimeZoneInfo MerchantTimeZone = FindParis();

    /// <summary>
    /// Reads <c>amount_eur</c>, <c>visit</c> and <c>points</c> from a scan/points body. Fields may be
    /// absent or null; anything else of the wrong type is refused, never coerced.
    /// </summary>
    public static (PointsInput? Input, Refusal? Refusal) ReadInput(JsonElement body)
    {
        long? cents = null;
        if (body.TryGetProperty("amount_eur", out var amount) && amount.ValueKind != JsonValueKind.Null)
        {
            if (!Money.TryParseEuros(amount, out var parsed, out var error))
            {
                return (null, new Refusal(400, "INVALID_AMOUNT", error));
            }

            cents = parsed;
        }

        var visit = false;
        if (body.TryGetProperty("visit", out var visitValue) && visitValue.ValueKind != JsonValueKind.Null)
        {
            if (visitValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return (null, new Refusal(400, "INVALID_VISIT", "visit doit valoir true ou false."));
            }

            visit = visitValue.GetBoolean();
        }

        long? points = null;
        if (body.TryGetProperty("points", out var pointsValue) && pointsValue.ValueKind != JsonValueKind.Null)
        {
            if (pointsValue.ValueKind != JsonValueKind.Number || !pointsValue.TryGetInt64(out var p) || p <= 0 || p > MaxExplicitPoints)
            {
                return (null, new Refusal(400, "INVALID_POINTS", $"points doit être un entier positif (au plus {MaxExplicitPoints})."));
            }

            points = p;
        }

        return (new PointsInput(cents, visit, points), null);
    }

    /// <summary>
    /// Pure decision: the event to append, or why not. Caps refuse a till's request (it can tell the
    /// cashier); for a payment (money already collected, nobody to answer) they clamp instead.
    /// </summary>
    public static (PointsCredited? Event, Refusal? Refusal) Decide(Member member, LoyaltyProgram program, CreditPoints command, DateTimeOffset now)
    {
        var points = PointsRules.Compute(program, command.Input);
        if (points <= 0)
        {
            return (null, new Refusal(400, "NO_POINTS_SPECIFIED", PointsRules.ExplainNothing(program, command.Input)));
        }

        if (program.MaxPointsPerOperation is { } perOperation && points > perOperation)
        {
            if (!command.ClampToCaps)
            {
                return (null, new Refusal(422, "POINTS_LIMIT_EXCEEDED",
                    $"{points} points dépassent le plafond du commerçant de {perOperation} points par opération."));
            }

            points = perOperation;
        }

        var day = MerchantDay(now);
        if (program.MaxPointsPerMemberPerDay is { } perDay)
        {
            var left = Math.Max(0, perDay - member.PointsCreditedOn(day));
            if (points > left)
            {
                if (!command.ClampToCaps)
                {
                    return (null, new Refusal(422, "DAILY_LIMIT_EXCEEDED",
                        $"Plafond journalier atteint : ce membre peut encore gagner {left} point(s) aujourd'hui (plafond {perDay})."));
                }

                points = left;
                if (points == 0)
                {
                    return (null, null);
                }
            }
        }

        var credited = new PointsCredited(command.OperationId, member.Id, member.MerchantId, points, checked(member.Points + points),
            command.Source, command.PaymentId, command.AmountBasisCents ?? command.Input.AmountCents ?? 0, day, now);
        return (credited, null);
    }

    /// <summary>Daily caps follow the merchant's calendar (France), not UTC.</summary>
    public static DateOnly MerchantDay(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, MerchantTimeZone).DateTime);

    private static TimeZoneInfo FindParis()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        }
        catch (TimeZoneNotFoundException)
        {
            return TimeZoneInfo.Utc;
        }
    }
}

/// <summary>
/// One crediting operation (id = operation id): whose it is and what reversing it needs, written in
/// the credit's transaction and updated in each reversal's. Kept out of the member's state, which
/// every lookup reads and every scan rewrites: a list of credits there made a regular's state grow to
/// tens of kilobytes (and capped reversals to the last 500 credits). Writes to it are guarded by the
/// member's stream version, appended in the same transaction.
/// </summary>
/// <c>Source</c> and <c>MerchantDay</c> (merchant + the credit's Paris day, indexed) feed the day's totals.
public sealed record OperationRecord(
    Guid Id, Guid MemberId, Guid MerchantId, long Points, long AmountCents, string? PaymentId, long ReversedPoints, long RefundedCents,
    PointsSource? Source = null, string? MerchantDay = null)
{
    public static OperationRecord For(PointsCredited e) =>
        new(e.OperationId, e.MemberId, e.MerchantId, e.Points, e.AmountCents, e.PaymentId, 0, 0, e.Source, Overview.DayTotals.Key(e.MerchantId, e.CapDay));

    public OperationRecord Apply(CreditReversed e) =>
        this with { ReversedPoints = ReversedPoints + e.Points, RefundedCents = RefundedCents + e.RefundedCents };
}
