namespace Fidpass.Contracts.Loyalty;

/// <summary>
/// A member was erased (GDPR): whatever holds their identity (a wallet pass, a name) removes it.
/// The ledger's numbers stay with loyalty; a card with this UUID earns nothing any more.
/// </summary>
/// <param name="MemberId">The member's UUID.</param>
/// <param name="MerchantId">The merchant.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record MemberErased(Guid MemberId, Guid MerchantId, DateTimeOffset OccurredAt);
