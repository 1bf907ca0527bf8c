using System.Text.Json;
using Fidpass.Loyalty.Adjustments;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Enrolment;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Payments;
using Fidpass.Loyalty.Programs;
using Fidpass.Loyalty.Redemptions;
using Fidpass.Loyalty.Reversals;
using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;

namespace Fidpass.Loyalty.Tests;

public sealed class DecideTests
{
    private static readonly Guid Merchant = Guid.NewGuid();
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private static readonly LoyaltyProgram Program = LoyaltyProgram.Default(Merchant);

    private static Member NewMember() =>
        Member.Create(Enrol.Decide(new EnrolMember(Guid.NewGuid(), Merchant, "Ana", "ana@example.fr"), Now));

    private static (Member Member, PointsCredited Credit) Credit(Member member, long? cents, long? points = null, LoyaltyProgram? program = null, DateTimeOffset? at = null)
    {
        var (credited, refusal) = CreditDecider.Decide(member, program ?? Program,
            new CreditPoints(Guid.NewGuid(), new PointsInput(cents, false, points), PointsSource.Integration, null, false), at ?? Now);
        Assert.Null(refusal);
        return (member.Apply(credited!), credited!);
    }

    [Fact]
    public void A_credit_moves_the_balance_and_records_the_visit()
    {
        var (member, credit) = Credit(NewMember(), 1_250);
        Assert.Equal(12, credit.Points);
        Assert.Equal(12, member.Points);
        Assert.Equal(Now, member.LastVisitAt);
    }

    [Fact]
    public void A_credit_cancelled_at_the_till_takes_its_visit_back_and_a_refund_does_not()
    {
        var (visited, _) = Credit(NewMember(), 500);
        var (member, credit) = Credit(visited, 1_250, at: Now.AddHours(2));
        Assert.Equal(Now.AddHours(2), member.LastVisitAt);

        var (undone, _) = Reverse.Decide(member, OperationRecord.For(credit), new ReverseCredit(Guid.NewGuid(), credit.OperationId, null, null), Now.AddHours(3));
        Assert.Equal(Now, member.Apply(undone!).LastVisitAt);

        var (refunded, _) = Reverse.Decide(member, OperationRecord.For(credit), new ReverseCredit(Guid.NewGuid(), credit.OperationId, null, "re_1"), Now.AddHours(3));
        Assert.Equal(Now.AddHours(2), member.Apply(refunded!).LastVisitAt);
    }

    [Fact]
    public void Caps_refuse_a_till_and_clamp_a_payment()
    {
        var capped = Program with { MaxPointsPerOperation = 10, MaxPointsPerMemberPerDay = 15 };
        var member = NewMember();
        var (_, refusal) = CreditDecider.Decide(member, capped, new CreditPoints(Guid.NewGuid(), new PointsInput(2_000, false, null), PointsSource.Integration, null, false), Now);
        Assert.Equal("POINTS_LIMIT_EXCEEDED", refusal!.Code);

        var (clamped, _) = CreditDecider.Decide(member, capped, new CreditPoints(Guid.NewGuid(), new PointsInput(2_000, false, null), PointsSource.Payment, "pi", true), Now);
        Assert.Equal(10, clamped!.Points);

        var (afterFirst, _) = Credit(member, 1_000, program: capped);
        var (_, daily) = CreditDecider.Decide(afterFirst, capped, new CreditPoints(Guid.NewGuid(), new PointsInput(800, false, null), PointsSource.Integration, null, false), Now);
        Assert.Equal("DAILY_LIMIT_EXCEEDED", daily!.Code);

        var (nextDay, _) = Credit(afterFirst, 800, program: capped, at: Now.AddDays(1));
        Assert.Equal(18, nextDay.Points);
    }

    [Fact]
    public void Body_fields_are_read_strictly()
    {
        static Refusal? Read(string json) => CreditDecider.ReadInput(JsonDocument.Parse(json).RootElement).Refusal;

        Assert.Null(Read("""{"amount_eur":"7.90","visit":true,"points":2}"""));
        Assert.Null(Read("""{"amount_eur":null,"visit":null,"points":null}"""));
        Assert.Equal("INVALID_POINTS", Read("""{"points":0}""")!.Code);
        Assert.Equal("INVALID_POINTS", Read("""{"points":2.5}""")!.Code);
        Assert.Equal("INVALID_POINTS", Read("""{"points":"2"}""")!.Code);
        Assert.Equal("INVALID_AMOUNT", Read("""{"amount_eur":"abc"}""")!.Code);
        Assert.Equal("INVALID_VISIT", Read("""{"visit":1}""")!.Code);
    }

    [Fact]
    public void An_adjustment_needs_a_reason_and_never_goes_below_zero()
    {
        var (member, _) = Credit(NewMember(), 500);
        Assert.Equal("REASON_REQUIRED", Adjust.Decide(member, new AdjustPoints(Guid.NewGuid(), 3, " "), Now).Refusal!.Code);
        Assert.Equal("INSUFFICIENT_POINTS", Adjust.Decide(member, new AdjustPoints(Guid.NewGuid(), -6, "erreur"), Now).Refusal!.Code);
        var (down, _) = Adjust.Decide(member, new AdjustPoints(Guid.NewGuid(), -5, "erreur"), Now);
        Assert.Equal(0, member.Apply(down!).Points);
    }

    [Fact]
    public void A_reward_is_paid_with_points_the_member_has()
    {
        var (member, _) = Credit(NewMember(), 500);
        Assert.Equal("INSUFFICIENT_POINTS", Redeem.Decide(member, new RedeemReward(Guid.NewGuid(), "Café", 6), Now).Refusal!.Code);
        var (redeemed, _) = Redeem.Decide(member, new RedeemReward(Guid.NewGuid(), "Café", 5), Now);
        Assert.Equal(0, member.Apply(redeemed!).Points);
    }

    [Fact]
    public void Partial_refunds_reverse_in_proportion_and_never_more_than_the_credit()
    {
        var (member, credit) = Credit(NewMember(), 1_000, program: Program with { PointsPerEuro = 3 }); // 30 points
        (member, _) = Credit(member, null, points: 100);

        var operation = OperationRecord.For(credit);
        var reversals = new List<long>();
        foreach (var refund in new long[] { 333, 333, 333, 500 })
        {
            var (reversed, _) = Reverse.Decide(member, operation, new ReverseCredit(Guid.NewGuid(), credit.OperationId, refund, "re"), Now);
            if (reversed is not null)
            {
                member = member.Apply(reversed);
                operation = operation.Apply(reversed);
                reversals.Add(reversed.Points);
            }
        }

        Assert.Equal([9, 10, 10, 1], reversals); // floor(30×333/1000)=9, floor(30×666/1000)=19, floor(30×999/1000)=29, then 30
        Assert.Equal(100, member.Points);
        Assert.Equal("ALREADY_REVERSED", Reverse.Decide(member, operation, new ReverseCredit(Guid.NewGuid(), credit.OperationId, null, null), Now).Refusal!.Code);
    }

    [Fact]
    public void A_credit_stays_reversible_however_many_credits_follow()
    {
        var (member, first) = Credit(NewMember(), 1_000);
        for (var i = 0; i < 600; i++)
        {
            (member, _) = Credit(member, null, points: 1);
        }

        var (reversed, refusal) = Reverse.Decide(member, OperationRecord.For(first), new ReverseCredit(Guid.NewGuid(), first.OperationId, null, null), Now);
        Assert.Null(refusal);
        Assert.Equal(10, reversed!.Points);
        Assert.Equal(600, member.Apply(reversed).Points);
    }

    [Fact]
    public void A_reversal_never_makes_the_balance_negative()
    {
        var (member, credit) = Credit(NewMember(), 1_000);
        var (spent, _) = Redeem.Decide(member, new RedeemReward(Guid.NewGuid(), "Menu", 8), Now);
        member = member.Apply(spent!);
        var (reversed, _) = Reverse.Decide(member, OperationRecord.For(credit), new ReverseCredit(Guid.NewGuid(), credit.OperationId, null, null), Now);
        Assert.Equal(2, reversed!.Points);
        Assert.Equal(0, member.Apply(reversed).Points);
    }

    [Fact]
    public void Erasure_forgets_the_person_and_keeps_the_numbers()
    {
        var (member, _) = Credit(NewMember(), 700);
        var (erased, _) = Privacy.Privacy.DecideErase(member, Now);
        var after = member.Apply(erased!);
        Assert.Equal((Member.ErasedName, (string?)null, 7L, true), (after.Name, after.Email, after.Points, after.Erased));
        Assert.Null(Privacy.Privacy.DecideErase(after, Now).Event);
    }

    [Theory]
    [InlineData("""{"name":"Ana","email":"Ana@Example.FR"}""", null)]
    [InlineData("""{"name":" ","email":"a@b.fr"}""", "INVALID_NAME")]
    [InlineData("""{"name":"Ana","email":"a@b"}""", "INVALID_EMAIL")]
    [InlineData("""{"name":"Ana","email":"a b@c.fr"}""", "INVALID_EMAIL")]
    [InlineData("""{"name":"Ana","email":5}""", "INVALID_EMAIL")]
    public void Enrolment_validates_and_lower_cases_the_email(string json, string? code)
    {
        var (command, refusal) = Enrol.Validate(Merchant, JsonDocument.Parse(json).RootElement);
        Assert.Equal(code, refusal?.Code);
        if (code is null)
        {
            Assert.Equal("ana@example.fr", command!.Email);
        }
    }

    [Fact]
    public void A_split_basket_earns_like_one_payment_of_its_total()
    {
        var program = Program with { PointsPerEuro = 1, PointsPerVisit = 2, MinAmountCents = 1_000 };
        var basket = new Basket("b", Merchant, [new BasketPart("pi_1", 650, Guid.NewGuid())], 0, null);
        Assert.Null(PaymentRules.Earn(program, basket));

        basket = basket with { Parts = [.. basket.Parts, new BasketPart("cash_1", 480, null)] };
        var first = PaymentRules.Earn(program, basket)!.Value;
        Assert.Equal(13, PointsRules.Compute(program, first.Input));

        basket = basket with { CreditedCents = 1_130, Parts = [.. basket.Parts, new BasketPart("cash_2", 90, null)] };
        var increase = PaymentRules.Earn(program, basket)!.Value;
        Assert.Equal(1, PointsRules.Compute(program, increase.Input));
        Assert.Equal(90, increase.AmountBasisCents);
    }

    [Fact]
    public void Payment_operation_ids_are_deterministic()
    {
        Assert.Equal(Uuid.ForPayment("pi_123"), Uuid.ForPayment("pi_123"));
        Assert.NotEqual(Uuid.ForPayment("pi_123"), Uuid.ForPayment("pi_124"));
        Assert.Equal(5, Uuid.ForPayment("pi_123").Version);
        // RFC 9562 test vector: v5 of "www.example.com" in the DNS namespace.
        Assert.Equal(Guid.Parse("2ed6657d-e927-568b-95e1-2665a8aea6a2"), Uuid.V5(Guid.Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "www.example.com"));
    }
}
