namespace Fidpass.Contracts.Loyalty;

/// <summary>Where a card stands in a merchant's program, as loyalty sees it at the moment of asking.</summary>
public enum MemberStanding
{
    /// <summary>A member of this merchant's program: a payment with this card earns points by the rules.</summary>
    Active = 1,

    /// <summary>No member has this UUID.</summary>
    Unknown = 2,

    /// <summary>The member was erased (GDPR): the card earns nothing any more.</summary>
    Erased = 3,

    /// <summary>A member of another merchant's program.</summary>
    OtherMerchant = 4,
}

/// <summary>
/// Request, answered by loyalty with <see cref="MemberChecked"/>: does this card earn points with this
/// merchant? Asked by the services that collect money before a sale starts, so the till can say at
/// once that a sale will be collected without points (the money is never refused for it).
/// </summary>
/// <param name="MerchantId">The merchant collecting the sale.</param>
/// <param name="MemberId">The card's UUID as the till read it.</param>
public sealed record CheckMember(Guid MerchantId, Guid MemberId);

/// <summary>Loyalty's answer to <see cref="CheckMember"/>.</summary>
/// <param name="MerchantId">As asked.</param>
/// <param name="MemberId">As asked.</param>
/// <param name="Standing">Where the card stands.</param>
public sealed record MemberChecked(Guid MerchantId, Guid MemberId, MemberStanding Standing);
