namespace Fidpass.Contracts.Loyalty;

/// <summary>
/// Someone enrolled again, without the merchant's credentials, with the e-mail of an existing member:
/// the answer discloses nothing about that member, and the card link goes by e-mail to that address
/// instead. Published by loyalty; merchant-token (which sends Fidpass's e-mails) mails the link.
/// </summary>
/// <param name="RequestId">Unique per request (deduplication key: a redelivered message sends no second mail).</param>
/// <param name="MerchantId">The merchant whose program the member belongs to.</param>
/// <param name="MemberId">The member's UUID (the card's barcode).</param>
/// <param name="Email">The member's e-mail, where the link goes.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record MemberCardLinkRequested(Guid RequestId, Guid MerchantId, Guid MemberId, string Email, DateTimeOffset OccurredAt);
