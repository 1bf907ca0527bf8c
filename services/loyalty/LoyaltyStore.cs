using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Payments;
using Fidpass.Loyalty.Programs;
using JasperFx.Events.Projections;
using Marten;
using Marten.Schema;

namespace Fidpass.Loyalty;

/// <summary>Loyalty's documents, indexes and projections in the <c>loyalty</c> schema.</summary>
public static class LoyaltyStore
{
    public static void Configure(StoreOptions options)
    {
        // One stream per member; the member document is its inline snapshot (read in the same
        // transaction as the append, so a balance is never stale).
        options.Projections.Snapshot<Member>(SnapshotLifecycle.Inline);
        options.Schema.For<Member>()
            .UniqueIndex(UniqueIndexType.Computed, "ux_member_merchant_email", m => m.MerchantId, m => m.Email!)
            .UniqueIndex(UniqueIndexType.Computed, "ux_member_merchant_short_code", m => m.MerchantId, m => m.ShortCode!)
            .Index(m => m.MerchantId)
            .Index(m => m.Name);

        // What expiry by age reads: a member's unspent points by the day they were earned.
        options.Projections.Add(new Expiry.PointLotsProjection(), ProjectionLifecycle.Inline);
        options.Schema.For<Expiry.PointLots>().Index(l => l.MerchantId);

        options.Schema.For<LoyaltyProgram>();
        // The reward catalogue, one stream per merchant, snapshotted inline like a member.
        options.Projections.Snapshot<RewardCatalogue>(SnapshotLifecycle.Inline);
        options.Schema.For<IdempotencyRecord>().Index(r => r.MemberId);
        // The day's totals read credits, payments and refunds by merchant and Paris day.
        options.Schema.For<PaymentRecord>().Index(r => r.MerchantDay!).UseOptimisticConcurrency(true);
        options.Schema.For<Crediting.OperationRecord>().Index(r => r.MerchantDay!);
        options.Schema.For<RefundRecord>().Index(r => r.MerchantDay!);
        options.Schema.For<Cards.MerchantProfile>();
        options.Schema.For<Basket>().UseOptimisticConcurrency(true);
        Privacy.Privacy.ConfigureMasking(options);
    }
}
