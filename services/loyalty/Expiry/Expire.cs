using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;
using Marten;

namespace Fidpass.Loyalty.Expiry;

/// <summary>
/// A programme's expiry rule: after <see cref="Months"/> months without activity the whole balance
/// expires (<see cref="Inactivity"/>), or each credit expires <see cref="Months"/> months after the
/// merchant day it was earned (<see cref="Age"/>). Points become due at the start of that day (Paris
/// time). <see cref="Since"/> is the merchant day the rule took its present form: nothing expires
/// under it before <c>Since + Months</c>, so turning expiry on (or shortening it) never makes a
/// customer's points vanish the same night without notice.
/// </summary>
public sealed record ExpiryRule(string Policy, int Months, DateOnly Since)
{
    public const string Inactivity = "inactivity";
    public const string Age = "age";
    public const int MaxMonths = 120;

    /// <summary>The day points counted from <paramref name="from"/> expire on.</summary>
    public DateOnly DueOn(DateOnly from) => (from > Since ? from : Since).AddMonths(Months);

    public bool SameAs(ExpiryRule? other) => other is not null && other.Policy == Policy && other.Months == Months;
}

/// <summary>Points that will expire together, and the day.</summary>
public sealed record ExpiryForecast(long Points, DateOnly On);

/// <summary>Pure decisions about expiry; the job (<see cref="ExpiryJob"/>) supplies the state and the clock.</summary>
public static class Expire
{
    /// <summary>What expires first and when, for balances and cards; null when nothing will.</summary>
    public static ExpiryForecast? Next(Member member, PointLots? lots, ExpiryRule? rule)
    {
        if (rule is null || member.Points <= 0)
        {
            return null;
        }

        if (rule.Policy == ExpiryRule.Inactivity)
        {
            return new ExpiryForecast(member.Points, rule.DueOn(CreditDecider.MerchantDay(LastActivity(member))));
        }

        var tracked = lots?.Lots ?? [];
        if (tracked.Length == 0)
        {
            return null;
        }

        var on = rule.DueOn(tracked[0].EarnedOn);
        var points = tracked.TakeWhile(l => rule.DueOn(l.EarnedOn) == on).Sum(l => l.Points);
        return new ExpiryForecast(Math.Min(points, member.Points), on);
    }

    /// <summary>
    /// The expiry to append at <paramref name="now"/>, or null when nothing is due. Everything due on or
    /// before today expires in one event (a job that did not run for days catches up at once). Once it is
    /// appended nothing is due any more, and the writer appends it at the stream version it read: a
    /// second run, or another replica, finds nothing to do. The operation id is a function of what
    /// expires, so even a copy appended by mistake would show as the same operation twice.
    /// </summary>
    public static PointsExpired? Decide(Member member, PointLots? lots, ExpiryRule? rule, DateTimeOffset now)
    {
        if (rule is null || member.Points <= 0 || member.Erased)
        {
            return null;
        }

        var today = CreditDecider.MerchantDay(now);
        long points;
        DateOnly dueOn;
        if (rule.Policy == ExpiryRule.Inactivity)
        {
            dueOn = rule.DueOn(CreditDecider.MerchantDay(LastActivity(member)));
            points = member.Points;
        }
        else
        {
            var due = (lots?.Lots ?? []).TakeWhile(l => rule.DueOn(l.EarnedOn) <= today).ToList();
            if (due.Count == 0)
            {
                return null;
            }

            dueOn = rule.DueOn(due[^1].EarnedOn);
            points = Math.Min(due.Sum(l => l.Points), member.Points);
        }

        if (dueOn > today || points <= 0)
        {
            return null;
        }

        var operationId = Uuid.V5(Uuid.LoyaltyNamespace, $"expiry:{member.Id}:{rule.Policy}:{dueOn:yyyy-MM-dd}:{member.Points}");
        return new PointsExpired(operationId, member.Id, member.MerchantId, points, member.Points - points, rule.Policy, dueOn, now);
    }

    /// <summary>The forecast shown with a balance (member detail, card), read from the programme and the lots.</summary>
    public static async Task<ExpiryForecast?> NextAsync(IQuerySession session, Member member, CancellationToken ct)
    {
        if ((await session.LoadAsync<LoyaltyProgram>(member.MerchantId, ct))?.Expiry is not { } rule || member.Points <= 0)
        {
            return null;
        }

        var lots = rule.Policy == ExpiryRule.Age ? await session.LoadAsync<PointLots>(member.Id, ct) : null;
        return Next(member, lots, rule);
    }

    /// <summary>As the APIs show it: <c>{"points","on"}</c> or null.</summary>
    public static object? Render(ExpiryForecast? next) => next is null ? null : new { points = next.Points, on = next.On };

    /// <summary>Members enrolled before activity was tracked fall back to their last credit, then to their enrolment.</summary>
    public static DateTimeOffset LastActivity(Member member) => member.LastActivityAt ?? member.LastVisitAt ?? member.EnrolledAt;
}
