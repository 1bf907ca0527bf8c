using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Members;
using JasperFx.Events;
using Marten.Events.Aggregation;

namespace Fidpass.Loyalty.Expiry;

/// <summary>Points earned on one merchant day and not yet spent, reversed or expired.</summary>
public sealed record PointLot(DateOnly EarnedOn, long Points);

/// <summary>
/// Where a member's balance comes from, by the merchant day it was earned (oldest first): what expiry
/// by age reads. Every debit (reward, reversal, adjustment down, expiry) consumes the oldest lots
/// first (as Odoo did), so the points that stay are always the youngest: a reversal too takes the
/// oldest points, not those of the credit it cancels, which can only make what stays expire later.
/// Credits of one day share a lot, so the document grows with the
/// days a member earned points, not with visits. Kept out of <see cref="Member"/>, which every lookup
/// reads and every scan rewrites. The lots add up to the balance; a stream whose start this
/// projection did not see (the document is missing until <c>PointLots</c> is rebuilt) tracks less
/// than the balance, and then less expires, never more.
/// </summary>
/// <param name="OldestEarnedOn">The first lot's day, indexed: the expiry job's query.</param>
public sealed record PointLots(Guid Id, Guid MerchantId, PointLot[] Lots, DateOnly? OldestEarnedOn)
{
    public static PointLots Empty(Guid memberId, Guid merchantId) => new(memberId, merchantId, [], null);

    public long Total => Lots.Sum(l => l.Points);

    public PointLots Fold(object @event) => @event switch
    {
        PointsCredited e => Earn(CreditDecider.MerchantDay(e.At), e.Points),
        PointsAdjusted { Delta: > 0 } e => Earn(CreditDecider.MerchantDay(e.At), e.Delta),
        PointsAdjusted e => Spend(-e.Delta),
        RewardRedeemed e => Spend(e.Points),
        CreditReversed e => Spend(e.Points),
        PointsExpired e => Spend(e.Points),
        _ => this,
    };

    private PointLots Earn(DateOnly day, long points)
    {
        if (points <= 0)
        {
            return this;
        }

        // Appends come in time order; a credit stamped a day earlier by another replica's clock is
        // still put in its place, so the lots stay sorted.
        var lots = Lots.ToList();
        var index = lots.FindLastIndex(l => l.EarnedOn <= day);
        if (index >= 0 && lots[index].EarnedOn == day)
        {
            lots[index] = lots[index] with { Points = lots[index].Points + points };
        }
        else
        {
            lots.Insert(index + 1, new PointLot(day, points));
        }

        return With(lots);
    }

    private PointLots Spend(long points)
    {
        var lots = new List<PointLot>(Lots.Length);
        foreach (var lot in Lots)
        {
            var taken = Math.Min(points, lot.Points);
            points -= taken;
            if (lot.Points > taken)
            {
                lots.Add(lot with { Points = lot.Points - taken });
            }
        }

        return With(lots);
    }

    private PointLots With(List<PointLot> lots) => this with { Lots = [.. lots], OldestEarnedOn = lots.Count == 0 ? null : lots[0].EarnedOn };
}

/// <summary>
/// <see cref="PointLots"/>, inline: written in the transaction of every append to a member's stream,
/// like the <see cref="Member"/> snapshot, and rebuilt from the same events.
/// </summary>
public sealed class PointLotsProjection : SingleStreamProjection<PointLots, Guid>
{
    public PointLotsProjection()
    {
        IncludeType<MemberEnrolled>();
        IncludeType<PointsCredited>();
        IncludeType<PointsAdjusted>();
        IncludeType<RewardRedeemed>();
        IncludeType<CreditReversed>();
        IncludeType<PointsExpired>();
    }

    public override PointLots? Evolve(PointLots? snapshot, Guid id, IEvent e) => e.Data switch
    {
        MemberEnrolled enrolled => PointLots.Empty(id, enrolled.MerchantId),
        _ => (snapshot ?? PointLots.Empty(id, MerchantOf(e.Data))).Fold(e.Data),
    };

    private static Guid MerchantOf(object data) => data switch
    {
        PointsCredited e => e.MerchantId,
        PointsAdjusted e => e.MerchantId,
        RewardRedeemed e => e.MerchantId,
        CreditReversed e => e.MerchantId,
        PointsExpired e => e.MerchantId,
        _ => Guid.Empty,
    };
}
