using System.Text.Json;
using Fidpass.Loyalty.Adjustments;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Enrolment;
using Fidpass.Loyalty.Expiry;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;
using Fidpass.Loyalty.Redemptions;
using Fidpass.Loyalty.Reversals;
using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;

namespace Fidpass.Loyalty.Tests;

/// <summary>Expiry decisions on a member's state, its lots and the programme's rule, with times chosen by the test (Paris is UTC+1 in winter, UTC+2 in summer).</summary>
public sealed class ExpiryTests
{
    private static readonly Guid Merchant = Guid.NewGuid();

    private sealed class Ledger
    {
        public Member Member { get; private set; }
        public PointLots Lots { get; private set; }

        public Ledger(DateTimeOffset at)
        {
            var enrolled = Enrol.Decide(new EnrolMember(Guid.NewGuid(), Merchant, "Ana", "ana@example.fr"), at);
            Member = Member.Create(enrolled);
            Lots = PointLots.Empty(Member.Id, Merchant);
        }

        public object Apply(object? @event)
        {
            Assert.NotNull(@event);
            Member = MemberWriter.Apply(Member, @event);
            Lots = Lots.Fold(@event);
            Assert.Equal(Member.Points, Lots.Total);
            return @event;
        }

        public PointsCredited Credit(long points, DateTimeOffset at)
        {
            var (credited, refusal) = CreditDecider.Decide(Member, LoyaltyProgram.Default(Merchant),
                new CreditPoints(Guid.NewGuid(), new PointsInput(null, false, points), PointsSource.Integration, null, false), at);
            Assert.Null(refusal);
            return (PointsCredited)Apply(credited);
        }

        public void Redeem(long points, DateTimeOffset at) => Apply(Redemptions.Redeem.Decide(Member, new RedeemReward(Guid.NewGuid(), "Café", points), at).Event);

        public PointsExpired? Expire(ExpiryRule rule, DateTimeOffset now) => Expiry.Expire.Decide(Member, Lots, rule, now);
    }

    private static DateTimeOffset Paris(int year, int month, int day, int hour = 12, int minute = 0) =>
        new DateTimeOffset(year, month, day, hour, minute, 0, TimeSpan.Zero) - (month is >= 4 and <= 10 ? TimeSpan.FromHours(2) : TimeSpan.FromHours(1));

    [Fact]
    public void Without_activity_the_whole_balance_expires_on_the_due_day_and_not_the_day_before()
    {
        var rule = new ExpiryRule(ExpiryRule.Inactivity, 6, new DateOnly(2027, 1, 1));
        var ledger = new Ledger(Paris(2027, 1, 2));
        ledger.Credit(40, Paris(2027, 1, 15, 10));

        Assert.Equal(new ExpiryForecast(40, new DateOnly(2027, 7, 15)), Expire.Next(ledger.Member, ledger.Lots, rule));
        Assert.Null(ledger.Expire(rule, Paris(2027, 7, 14, 23, 59)));

        var expired = ledger.Expire(rule, Paris(2027, 7, 15, 0, 1));
        Assert.NotNull(expired);
        Assert.Equal((40, 0, ExpiryRule.Inactivity, new DateOnly(2027, 7, 15)), (expired.Points, expired.NewBalance, expired.Rule, expired.DueOn));
    }

    [Fact]
    public void A_reward_is_activity_a_reversal_is_not()
    {
        var rule = new ExpiryRule(ExpiryRule.Inactivity, 6, new DateOnly(2027, 1, 1));
        var ledger = new Ledger(Paris(2027, 1, 2));
        var credit = ledger.Credit(40, Paris(2027, 1, 15));
        ledger.Redeem(10, Paris(2027, 3, 1));
        Assert.Equal(new DateOnly(2027, 9, 1), Expire.Next(ledger.Member, ledger.Lots, rule)!.On);

        ledger.Apply(Reverse.Decide(ledger.Member, OperationRecord.For(credit), new ReverseCredit(Guid.NewGuid(), credit.OperationId, null, null), Paris(2027, 5, 1)).Event);
        Assert.Equal(0, ledger.Member.Points);
        Assert.Null(Expire.Next(ledger.Member, ledger.Lots, rule));
        Assert.Null(ledger.Expire(rule, Paris(2027, 9, 2)));
    }

    [Fact]
    public void By_age_each_days_points_expire_on_their_own_day_oldest_spent_first()
    {
        var rule = new ExpiryRule(ExpiryRule.Age, 12, new DateOnly(2026, 12, 1));
        var ledger = new Ledger(Paris(2027, 1, 2));
        ledger.Credit(10, Paris(2027, 1, 10));
        ledger.Credit(20, Paris(2027, 2, 10, 9));
        ledger.Credit(5, Paris(2027, 2, 10, 18));
        ledger.Credit(30, Paris(2027, 3, 10));
        Assert.Equal([new PointLot(new DateOnly(2027, 1, 10), 10), new PointLot(new DateOnly(2027, 2, 10), 25), new PointLot(new DateOnly(2027, 3, 10), 30)], ledger.Lots.Lots);

        // The reward takes January's 10 and 5 of February's 25.
        ledger.Redeem(15, Paris(2027, 4, 1));
        Assert.Equal(new ExpiryForecast(20, new DateOnly(2028, 2, 10)), Expire.Next(ledger.Member, ledger.Lots, rule));
        Assert.Null(ledger.Expire(rule, Paris(2028, 1, 10)));
        Assert.Null(ledger.Expire(rule, Paris(2028, 2, 9, 23, 59)));

        var february = (PointsExpired)ledger.Apply(ledger.Expire(rule, Paris(2028, 2, 10, 0, 1)));
        Assert.Equal((20, 30, new DateOnly(2028, 2, 10)), (february.Points, february.NewBalance, february.DueOn));
        Assert.Null(ledger.Expire(rule, Paris(2028, 2, 10, 23)));
        Assert.Equal(new ExpiryForecast(30, new DateOnly(2028, 3, 10)), Expire.Next(ledger.Member, ledger.Lots, rule));
    }

    [Fact]
    public void A_pass_after_days_without_one_expires_everything_due_at_once_and_then_nothing()
    {
        var rule = new ExpiryRule(ExpiryRule.Age, 1, new DateOnly(2026, 12, 1));
        var ledger = new Ledger(Paris(2027, 1, 2));
        ledger.Credit(10, Paris(2027, 1, 31));
        ledger.Credit(20, Paris(2027, 2, 3));
        ledger.Credit(30, Paris(2027, 3, 20));

        // 31 January + 1 month = 28 February (the month's last day).
        Assert.Equal(new DateOnly(2027, 2, 28), Expire.Next(ledger.Member, ledger.Lots, rule)!.On);
        var expired = (PointsExpired)ledger.Apply(ledger.Expire(rule, Paris(2027, 3, 10)));
        Assert.Equal((30, 30, new DateOnly(2027, 3, 3)), (expired.Points, expired.NewBalance, expired.DueOn));
        Assert.Null(ledger.Expire(rule, Paris(2027, 3, 10)));
    }

    [Fact]
    public void Nothing_expires_before_the_rule_has_run_its_length_from_the_day_it_was_set()
    {
        var rule = new ExpiryRule(ExpiryRule.Age, 6, new DateOnly(2027, 6, 1));
        var ledger = new Ledger(Paris(2026, 1, 2));
        ledger.Credit(50, Paris(2026, 1, 10));

        Assert.Equal(new DateOnly(2027, 12, 1), Expire.Next(ledger.Member, ledger.Lots, rule)!.On);
        Assert.Null(ledger.Expire(rule, Paris(2027, 11, 30, 23)));
        Assert.Equal(50, ledger.Expire(rule, Paris(2027, 12, 1, 1))!.Points);
    }

    [Fact]
    public void The_same_expiry_decided_twice_has_the_same_operation_id_and_nothing_is_due_once_it_is_applied()
    {
        var rule = new ExpiryRule(ExpiryRule.Inactivity, 3, new DateOnly(2027, 1, 1));
        var ledger = new Ledger(Paris(2027, 1, 2));
        ledger.Credit(12, Paris(2027, 1, 5));

        var first = ledger.Expire(rule, Paris(2027, 4, 5, 1));
        var second = ledger.Expire(rule, Paris(2027, 4, 5, 9));
        Assert.Equal(first!.OperationId, second!.OperationId);
        ledger.Apply(first);
        Assert.Null(ledger.Expire(rule, Paris(2027, 4, 5, 10)));
    }

    [Fact]
    public void Every_debit_consumes_the_oldest_lots_and_the_lots_always_add_up_to_the_balance()
    {
        var random = new Random(20);
        var ledger = new Ledger(Paris(2027, 1, 1));
        var credits = new List<PointsCredited>();
        for (var day = 0; day < 200; day++)
        {
            var at = Paris(2027, 1, 2).AddDays(day);
            switch (random.Next(4))
            {
                case 0 or 1:
                    credits.Add(ledger.Credit(random.Next(1, 30), at));
                    break;
                case 2 when ledger.Member.Points > 0:
                    ledger.Redeem(random.Next(1, (int)ledger.Member.Points + 1), at);
                    break;
                case 3 when ledger.Member.Points > 0:
                    ledger.Apply(Adjust.Decide(ledger.Member, new AdjustPoints(Guid.NewGuid(), -random.Next(1, (int)ledger.Member.Points + 1), "Erreur"), at).Event);
                    break;
            }
        }

        // Spending oldest first leaves the youngest points: the lots are a suffix of the credits.
        var left = ledger.Member.Points;
        var youngestFirst = credits.AsEnumerable().Reverse().GetEnumerator();
        var expected = new List<PointLot>();
        while (left > 0 && youngestFirst.MoveNext())
        {
            var c = youngestFirst.Current;
            var taken = Math.Min(left, c.Points);
            expected.Insert(0, new PointLot(CreditDecider.MerchantDay(c.At), taken));
            left -= taken;
        }

        Assert.Equal(expected, ledger.Lots.Lots);
        Assert.Equal(expected.FirstOrDefault()?.EarnedOn, ledger.Lots.OldestEarnedOn);
    }

    public static TheoryData<string, string> InvalidExpiries() => new()
    {
        { """ "never" """, "pointsExpiry : objet" },
        { """ {"months": 6} """, "policy vaut « inactivity »" },
        { """ {"policy": "lifetime", "months": 6} """, "policy vaut « inactivity »" },
        { """ {"policy": "age"} """, "months est un nombre entier de mois, de 1 à 120" },
        { """ {"policy": "age", "months": 0} """, "months est un nombre entier de mois" },
        { """ {"policy": "age", "months": 121} """, "months est un nombre entier de mois" },
        { """ {"policy": "age", "months": 6.5} """, "months est un nombre entier de mois" },
        { """ {"policy": "age", "months": "6"} """, "months est un nombre entier de mois" },
    };

    [Theory]
    [MemberData(nameof(InvalidExpiries))]
    public void An_invalid_expiry_setting_is_refused_with_a_french_explanation(string expiry, string message)
    {
        using var body = JsonDocument.Parse($$"""{"type":"points","pointsPerEuro":1,"pointsPerVisit":0,"pointsExpiry":{{expiry}}}""");

        var (program, refusal) = ProgramApi.Validate(Merchant, body.RootElement, new DateOnly(2027, 1, 1));

        Assert.Null(program);
        Assert.Equal((400, "INVALID_PROGRAM"), (refusal!.Status, refusal.Code));
        Assert.Contains(message, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_an_expiry_setting_points_never_expire_and_a_rule_counts_from_the_day_it_is_set()
    {
        using var none = JsonDocument.Parse("""{"type":"points","pointsPerEuro":1,"pointsPerVisit":0}""");
        using var age = JsonDocument.Parse("""{"type":"points","pointsPerEuro":1,"pointsPerVisit":0,"pointsExpiry":{"policy":"age","months":24}}""");

        Assert.Null(ProgramApi.Validate(Merchant, none.RootElement, new DateOnly(2027, 1, 1)).Program!.Expiry);
        Assert.Null(LoyaltyProgram.Default(Merchant).Expiry);
        Assert.Equal(new ExpiryRule(ExpiryRule.Age, 24, new DateOnly(2027, 1, 1)), ProgramApi.Validate(Merchant, age.RootElement, new DateOnly(2027, 1, 1)).Program!.Expiry);
    }
}
