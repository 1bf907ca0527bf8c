using System.Security.Cryptography;
using Marten;

namespace Fidpass.Loyalty.Members;

/// <summary>The member's short code was given (at enrolment, or on the first read of a card enrolled before codes existed).</summary>
public sealed record ShortCodeAssigned(Guid MemberId, Guid MerchantId, string Code, DateTimeOffset At);

/// <summary>
/// A code a cashier can type or hear when the QR cannot be read: 8 characters of an alphabet without
/// 0/O or 1/I. Random, and unique per merchant by the database (unique index on merchant and code):
/// a collision makes the save fail and the next attempt draws another code.
/// </summary>
public static class ShortCodes
{
    public const string Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    public const int Length = 8;

    public static string New() => RandomNumberGenerator.GetString(Alphabet, Length);

    /// <summary>What was typed or said (any case, spaces or dashes between groups) as a code, or null when it cannot be one.</summary>
    public static string? Normalise(string? typed)
    {
        if (typed is null || typed.Length > 20)
        {
            return null;
        }

        var code = string.Concat(typed.Where(c => !char.IsWhiteSpace(c) && c != '-')).ToUpperInvariant();
        return code.Length == Length && code.All(c => Alphabet.Contains(c, StringComparison.Ordinal)) ? code : null;
    }

    /// <summary>How the card shows it: two groups of four, easier to read out.</summary>
    public static string Display(string code) => $"{code[..4]} {code[4..]}";

    /// <summary>The member of <paramref name="merchantId"/> holding the code typed, if any.</summary>
    public static async Task<Guid?> FindAsync(IDocumentStore store, Guid merchantId, string? typed, CancellationToken ct)
    {
        if (Normalise(typed) is not { } code)
        {
            return null;
        }

        await using var session = store.QuerySession();
        var member = await session.Query<Member>().FirstOrDefaultAsync(m => m.MerchantId == merchantId && m.ShortCode == code, ct);
        return member is { Erased: false } ? member.Id : null;
    }

    /// <summary>The member's code, assigned now if the member has none yet.</summary>
    public static async Task<string> EnsureAsync(IDocumentStore store, Member member, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (member.ShortCode is { } existing)
            {
                return existing;
            }

            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<Member>(member.Id, ct);
            member = stream.Aggregate ?? member;
            if (member.ShortCode is { } assigned)
            {
                return assigned;
            }

            var code = New();
            stream.AppendOne(new ShortCodeAssigned(member.Id, member.MerchantId, code, DateTimeOffset.UtcNow));
            try
            {
                await session.SaveChangesAsync(ct);
                return code;
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && attempt < 10)
            {
                // Another read assigned one first (the next pass returns it), or the code was taken (the next pass draws another).
                await Conflicts.BackOffAsync(attempt, ct);
            }
        }
    }
}
