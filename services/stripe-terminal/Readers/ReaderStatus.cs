using System.Security.Cryptography;
using System.Text;

namespace Fidpass.StripeTerminal.Readers;

/// <summary>
/// A reader's status changed (relayed as <c>ReaderStatusChanged</c>). Appended only on a change, so
/// every stored event is a real transition; <c>MerchantSlug</c> labels the gauge.
/// </summary>
public sealed record ReaderStatusRecorded(Guid Id, string ReaderId, Guid MerchantId, string? MerchantSlug, string Status, DateTimeOffset At);

/// <summary>The reader was deleted: it leaves the gauge and later observations are ignored.</summary>
public sealed record ReaderStatusRemoved(Guid Id, DateTimeOffset At);

/// <summary>What the service saw of a reader (a Stripe answer, an error code, an acknowledgement), at a time.</summary>
public sealed record ReaderObservation(string ReaderId, Guid MerchantId, string? MerchantSlug, string? Status, DateTimeOffset At);

/// <summary>The last known status of one reader (one stream per reader, inline snapshot read by the gauge).</summary>
public sealed record ReaderState(
    Guid Id, string ReaderId, Guid MerchantId, string? MerchantSlug, string Status, DateTimeOffset ChangedAt, bool Removed)
{
    public long Version { get; set; }

    public static Guid StreamId(string readerId) => new(SHA256.HashData(Encoding.UTF8.GetBytes($"reader-status:{readerId}")).AsSpan(0, 16));

    public static ReaderState Create(ReaderStatusRecorded e) => new(e.Id, e.ReaderId, e.MerchantId, e.MerchantSlug, e.Status, e.At, false);

    public ReaderState Apply(ReaderStatusRecorded e) => this with { Status = e.Status, MerchantSlug = e.MerchantSlug ?? MerchantSlug, ChangedAt = e.At };

    public ReaderState Apply(ReaderStatusRemoved e) => this with { Removed = true, ChangedAt = e.At };
}

/// <summary>
/// Pure: whether an observation is a real change. Stripe names two statuses, <c>online</c> and
/// <c>offline</c> (spec 2.2; null for mobile readers). "Busy" is the state of one action, answered
/// to the till as <c>reader_busy</c>, not a reader status: recording it would flip every reader at
/// every sale.
/// </summary>
public static class ReaderStatusDecisions
{
    public const string Online = "online";
    public const string Offline = "offline";

    public static IReadOnlyList<object> Observe(ReaderState? state, ReaderObservation seen)
    {
        if (seen.Status is not (Online or Offline))
        {
            return [];
        }

        if (state is null)
        {
            return [new ReaderStatusRecorded(ReaderState.StreamId(seen.ReaderId), seen.ReaderId, seen.MerchantId, seen.MerchantSlug, seen.Status, seen.At)];
        }

        // Two requests racing: an answer read before the last recorded change is older news.
        if (state.Removed || state.Status == seen.Status || seen.At < state.ChangedAt)
        {
            return [];
        }

        return [new ReaderStatusRecorded(state.Id, state.ReaderId, state.MerchantId, seen.MerchantSlug, seen.Status, seen.At)];
    }

    public static IReadOnlyList<object> Remove(ReaderState? state, DateTimeOffset at) =>
        state is null or { Removed: true } ? [] : [new ReaderStatusRemoved(state.Id, at)];
}
