using Fidpass.Contracts.Loyalty;
using Fidpass.Loyalty.Cards;
using Fidpass.ServiceDefaults;
using JasperFx.Events;
using MassTransit;
using Catalogue = Fidpass.Loyalty.Programs;
using Member = Fidpass.Loyalty.Members;

namespace Fidpass.Loyalty.Relay;

/// <summary>Publishes the member streams' events as the public loyalty contracts, after commit.</summary>
public sealed class LoyaltyEventRelay(IBus bus) : EventRelay(bus)
{
    public static readonly Type[] RelayedTypes =
    [
        typeof(Member.PointsExpired),
        typeof(Member.MemberEnrolled), typeof(Member.PointsCredited), typeof(Member.PointsAdjusted),
        typeof(Member.RewardRedeemed), typeof(Member.CreditReversed), typeof(Member.MemberErased),
        typeof(Catalogue.RewardAdded), typeof(Catalogue.RewardChanged), typeof(Catalogue.RewardWithdrawn),
    ];

    protected override object? ToMessage(IEvent stored) => stored.Data switch
    {
        Member.MemberEnrolled e => new MemberEnrolled(e.MemberId, e.MerchantId, e.At) { FirstName = PublicCard.FirstName(e.Name) },
        Member.PointsCredited e => new PointsCredited(e.OperationId, e.MemberId, e.MerchantId, e.Points, e.NewBalance, e.Source, e.PaymentId, e.At),
        Member.PointsExpired e => new PointsExpired(e.OperationId, e.MemberId, e.MerchantId, e.Points, e.NewBalance,
            e.Rule == Expiry.ExpiryRule.Age ? PointsExpiryRule.Age : PointsExpiryRule.Inactivity, e.DueOn, e.At),
        Member.PointsAdjusted { Delta: > 0 } e =>
            new PointsCredited(e.OperationId, e.MemberId, e.MerchantId, e.Delta, e.NewBalance, PointsSource.Adjustment, null, e.At),
        Member.PointsAdjusted e => new PointsDebited(e.OperationId, e.MemberId, e.MerchantId, -e.Delta, e.NewBalance, e.Reason, e.At),
        Member.RewardRedeemed e => new RewardRedeemed(e.OperationId, e.MemberId, e.MerchantId, e.RewardName, e.Points, e.NewBalance, e.At),
        Member.CreditReversed { Points: > 0 } e =>
            new PointsReversed(e.OperationId, e.ReversedOperationId, e.MemberId, e.MerchantId, e.Points, e.NewBalance, e.RefundId, e.At),
        Member.MemberErased e => new MemberErased(e.MemberId, e.MerchantId, e.At),
        Catalogue.RewardAdded e => new RewardOfferChanged(e.RewardId, e.MerchantId, e.Name, e.Points, false, e.At),
        Catalogue.RewardChanged e => new RewardOfferChanged(e.RewardId, e.MerchantId, e.Name, e.Points, false, e.At),
        Catalogue.RewardWithdrawn e => new RewardOfferChanged(e.RewardId, e.MerchantId, e.Name, e.Points, true, e.At),
        _ => null,
    };
}
