using Fidpass.Contracts.Loyalty;
using MassTransit;

namespace Fidpass.Wallet.Passes;

/// <summary>
/// Loyalty's member events, as passes see them. Loyalty does not know this service: it only listens.
/// </summary>
public sealed class MemberEventConsumers(PassUpdates updates) :
    IConsumer<MemberEnrolled>, IConsumer<PointsCredited>, IConsumer<PointsDebited>, IConsumer<PointsReversed>,
    IConsumer<RewardRedeemed>, IConsumer<PointsExpired>, IConsumer<MemberErased>
{
    public Task Consume(ConsumeContext<MemberEnrolled> context)
    {
        var e = context.Message;
        return updates.ApplyAsync(new PassChange(null, e.MemberId, e.MerchantId, null, 0, e.FirstName ?? "", false, e.OccurredAt), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<PointsCredited> context) =>
        BalanceChangedAsync(context, context.Message.OperationId, context.Message.MemberId, context.Message.MerchantId, context.Message.NewBalance, context.Message.Points, context.Message.OccurredAt);

    public Task Consume(ConsumeContext<PointsDebited> context) =>
        BalanceChangedAsync(context, context.Message.OperationId, context.Message.MemberId, context.Message.MerchantId, context.Message.NewBalance, -context.Message.Points, context.Message.OccurredAt);

    public Task Consume(ConsumeContext<PointsReversed> context) =>
        BalanceChangedAsync(context, context.Message.OperationId, context.Message.MemberId, context.Message.MerchantId, context.Message.NewBalance, -context.Message.Points, context.Message.OccurredAt);

    public Task Consume(ConsumeContext<RewardRedeemed> context) =>
        BalanceChangedAsync(context, context.Message.OperationId, context.Message.MemberId, context.Message.MerchantId, context.Message.NewBalance, -context.Message.Points, context.Message.OccurredAt);

    public Task Consume(ConsumeContext<PointsExpired> context) =>
        BalanceChangedAsync(context, context.Message.OperationId, context.Message.MemberId, context.Message.MerchantId, context.Message.NewBalance, -context.Message.Points, context.Message.OccurredAt);

    /// <summary>Every balance change is one pass change: its operation id (redelivery), the new balance and the signed delta.</summary>
    private Task BalanceChangedAsync(ConsumeContext context, Guid operationId, Guid memberId, Guid merchantId, long newBalance, long delta, DateTimeOffset at) =>
        updates.ApplyAsync(new PassChange(operationId, memberId, merchantId, newBalance, delta, null, false, at), context.CancellationToken);

    public Task Consume(ConsumeContext<MemberErased> context)
    {
        var e = context.Message;
        return updates.ApplyAsync(new PassChange(null, e.MemberId, e.MerchantId, null, 0, null, true, e.OccurredAt), context.CancellationToken);
    }
}
