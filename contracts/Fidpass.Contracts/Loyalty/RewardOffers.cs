namespace Fidpass.Contracts.Loyalty;

/// <summary>
/// A reward of the merchant's catalogue was added, changed or withdrawn (one message per reward, so a
/// consumer keeps the catalogue as a projection). Published by loyalty; the wallet shows the next
/// reward a member can reach.
/// </summary>
/// <param name="RewardId">The reward's id, stable across changes.</param>
/// <param name="MerchantId">The merchant.</param>
/// <param name="Name">What the customer gets (« Café offert »).</param>
/// <param name="Points">Points it costs (positive).</param>
/// <param name="Withdrawn">True when the merchant removed it from the catalogue.</param>
/// <param name="OccurredAt">When (UTC); the newest wins for a reward.</param>
public sealed record RewardOfferChanged(Guid RewardId, Guid MerchantId, string Name, long Points, bool Withdrawn, DateTimeOffset OccurredAt);
