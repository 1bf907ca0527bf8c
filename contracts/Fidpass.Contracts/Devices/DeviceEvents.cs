namespace Fidpass.Contracts.Devices;

/// <summary>A Stripe Terminal reader changed status (online, offline, busy).</summary>
/// <param name="ReaderId">Stripe reader id (<c>tmr_…</c>).</param>
/// <param name="MerchantId">Its merchant.</param>
/// <param name="Status">New status as Stripe names it (<c>online</c>, <c>offline</c>).</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record ReaderStatusChanged(string ReaderId, Guid MerchantId, string Status, DateTimeOffset OccurredAt);

/// <summary>A Cashlogy machine changed status.</summary>
/// <param name="MachineId">The machine's id in cashlogy-edge.</param>
/// <param name="MerchantId">Its merchant.</param>
/// <param name="Status">New status (<c>online</c>, <c>offline</c>, <c>busy</c>, <c>error</c>).</param>
/// <param name="Detail">The machine's own detail when it reports an error, else null.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record CashMachineStatusChanged(Guid MachineId, Guid MerchantId, string Status, string? Detail, DateTimeOffset OccurredAt);
