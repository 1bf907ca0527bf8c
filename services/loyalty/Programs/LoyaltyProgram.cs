using Fidpass.Loyalty.Expiry;

namespace Fidpass.Loyalty.Programs;

/// <summary>A merchant's rules. Document id = merchant id. Amounts in cents, points in whole points.</summary>
/// <param name="Expiry">When points expire; null (every program stored before expiry existed) = never.</param>
public sealed record LoyaltyProgram(
    Guid Id,
    string Type,
    long PointsPerEuro,
    long PointsPerVisit,
    long MinAmountCents,
    long? MaxPointsPerOperation,
    long? MaxPointsPerMemberPerDay,
    ExpiryRule? Expiry = null)
{
    public const string PointsType = "points";
    public const string StampsType = "stamps";

    /// <summary>What a merchant gets until it sets its own rules: 1 point per euro, nothing per visit, no minimum.</summary>
    public static LoyaltyProgram Default(Guid merchantId) => new(merchantId, PointsType, 1, 0, 0, null, null);

    public bool IsStamps => Type == StampsType;
}

/// <summary>What a sale yields, before caps.</summary>
public sealed record PointsInput(long? AmountCents, bool Visit, long? Points)
{
    public bool IsEmpty => AmountCents is null && !Visit && Points is null;
}

public static class PointsRules
{
    /// <summary>
    /// points + floor(cents × pointsPerEuro / 100) when cents ≥ the minimum, + pointsPerVisit on a
    /// visit; on a stamp card a visit is worth at least one stamp. Integer arithmetic only.
    /// </summary>
    public static long Compute(LoyaltyProgram program, PointsInput input)
    {
        var total = input.Points ?? 0;
        if (input.AmountCents is { } cents && cents >= program.MinAmountCents)
        {
            total += checked(cents * program.PointsPerEuro) / 100;
        }

        if (input.Visit)
        {
            total += program.IsStamps ? Math.Max(1, program.PointsPerVisit) : program.PointsPerVisit;
        }

        return total;
    }

    /// <summary>The French explanation given to a till when a sale yields nothing.</summary>
    public static string ExplainNothing(LoyaltyProgram program, PointsInput input)
    {
        if (input.IsEmpty)
        {
            return "Aucun point à créditer : indiquez amount_eur, visit ou points.";
        }

        if (input.AmountCents is { } cents && cents < program.MinAmountCents)
        {
            return $"Aucun point à créditer : le montant minimum pour gagner des points est de {Money.Format(program.MinAmountCents)}.";
        }

        return $"Aucun point à créditer avec les règles du commerçant ({program.PointsPerEuro} point(s) par euro, {program.PointsPerVisit} par passage).";
    }
}
