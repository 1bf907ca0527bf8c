using Fidpass.Loyalty.Crediting;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.Loyalty.Members;

/// <summary>
/// Runs a pure decision against a member's latest state and appends its event with the version it
/// read; a concurrent writer makes it start over, so balances are exact under concurrency.
/// </summary>
public static class MemberWriter
{
    public static readonly Refusal NotFound = new(404, "MEMBER_NOT_FOUND", "Membre introuvable pour ce commerce.");

    public static Task<(Member? Member, object? Event, Refusal? Refusal)> ExecuteAsync(
        IDocumentStore store, Guid merchantId, Guid memberId, Func<Member, (object? Event, Refusal? Refusal)> decide, CancellationToken ct,
        bool allowErased = false) =>
        ExecuteAsync(store, merchantId, memberId, (_, member, _) => Task.FromResult(decide(member)), ct, allowErased);

    /// <summary>As above; the decision may also read and stage documents in the writer's session, which
    /// commit with its event or not at all.</summary>
    public static async Task<(Member? Member, object? Event, Refusal? Refusal)> ExecuteAsync(
        IDocumentStore store, Guid merchantId, Guid memberId,
        Func<IDocumentSession, Member, CancellationToken, Task<(object? Event, Refusal? Refusal)>> decide, CancellationToken ct,
        bool allowErased = false)
    {
        using var turn = await MemberLocks.AcquireAsync(memberId, ct);
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<Member>(memberId, ct);
            var member = stream.Aggregate;
            if (member is null || member.MerchantId != merchantId || (member.Erased && !allowErased))
            {
                return (null, null, NotFound);
            }

            var (decided, refusal) = await decide(session, member, ct);
            if (refusal is not null || decided is null)
            {
                return (member, null, refusal);
            }

            stream.AppendOne(decided);
            session.CarryTrace();
            try
            {
                await session.SaveChangesAsync(ct);
                return (Apply(member, decided), decided, null);
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && attempt < Conflicts.MaxAttempts)
            {
                await Conflicts.BackOffAsync(attempt, ct);
            }
        }
    }

    public static Member Apply(Member member, object @event) => @event switch
    {
        PointsCredited e => member.Apply(e),
        PointsAdjusted e => member.Apply(e),
        RewardRedeemed e => member.Apply(e),
        CreditReversed e => member.Apply(e),
        PointsExpired e => member.Apply(e),
        MemberErased e => member.Apply(e),
        _ => member,
    };
}
