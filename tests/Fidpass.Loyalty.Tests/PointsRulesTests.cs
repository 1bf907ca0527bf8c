using Fidpass.Loyalty.Programs;

namespace Fidpass.Loyalty.Tests;

public sealed class PointsRulesTests
{
    private static readonly Guid Merchant = Guid.NewGuid();

    [Theory]
    [InlineData(1, 0, 0, 790L, false, null, 7L)]
    [InlineData(2, 3, 500, 790L, true, null, 18L)]
    [InlineData(2, 3, 500, 499L, true, null, 3L)]
    [InlineData(2, 3, 500, 499L, false, null, 0L)]
    [InlineData(1, 0, 0, 99L, false, null, 0L)]
    [InlineData(3, 0, 0, 1099L, false, 4L, 36L)]
    [InlineData(1, 5, 0, null, true, 2L, 7L)]
    [InlineData(7, 0, 0, 1_000_00L, false, null, 7000L)]
    public void Points_are_floor_of_cents_times_rate_over_100_plus_visit_plus_explicit(
        long perEuro, long perVisit, long minCents, long? cents, bool visit, long? points, long expected)
    {
        var program = new LoyaltyProgram(Merchant, LoyaltyProgram.PointsType, perEuro, perVisit, minCents, null, null);
        Assert.Equal(expected, PointsRules.Compute(program, new PointsInput(cents, visit, points)));
    }

    [Theory]
    [InlineData(0, true, 1)]
    [InlineData(3, true, 3)]
    [InlineData(0, false, 0)]
    public void A_visit_on_a_stamp_card_is_at_least_one_stamp(long perVisit, bool visit, long expected)
    {
        var program = new LoyaltyProgram(Merchant, LoyaltyProgram.StampsType, 0, perVisit, 0, null, null);
        Assert.Equal(expected, PointsRules.Compute(program, new PointsInput(null, visit, null)));
    }

    [Fact]
    public void The_default_program_is_one_point_per_euro_nothing_per_visit_no_minimum()
    {
        var program = LoyaltyProgram.Default(Merchant);
        Assert.Equal((LoyaltyProgram.PointsType, 1L, 0L, 0L), (program.Type, program.PointsPerEuro, program.PointsPerVisit, program.MinAmountCents));
        Assert.Null(program.MaxPointsPerOperation);
    }

    [Fact]
    public void Nothing_earned_under_the_minimum_is_explained_with_the_minimum()
    {
        var program = new LoyaltyProgram(Merchant, LoyaltyProgram.PointsType, 1, 0, 1_000, null, null);
        Assert.Contains("10,00 €", PointsRules.ExplainNothing(program, new PointsInput(500, false, null)), StringComparison.Ordinal);
    }
}
