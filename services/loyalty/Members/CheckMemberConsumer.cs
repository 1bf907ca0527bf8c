using Fidpass.Contracts.Loyalty;
using Marten;
using MassTransit;

namespace Fidpass.Loyalty.Members;

/// <summary>
/// Answers a collecting service asking, before a sale, whether a card earns points with a merchant:
/// the same test the payment consumer applies when the money arrives (a member of this merchant, not erased).
/// </summary>
public sealed class CheckMemberConsumer(IQuerySession session) : IConsumer<CheckMember>
{
    public async Task Consume(ConsumeContext<CheckMember> context)
    {
        var asked = context.Message;
        var member = await session.LoadAsync<Member>(asked.MemberId, context.CancellationToken);
        var standing = member switch
        {
            null => MemberStanding.Unknown,
            _ when member.MerchantId != asked.MerchantId => MemberStanding.OtherMerchant,
            { Erased: true } => MemberStanding.Erased,
            _ => MemberStanding.Active,
        };
        await context.RespondAsync(new MemberChecked(asked.MerchantId, asked.MemberId, standing));
    }
}
