using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Payments;
using Marten;

namespace Fidpass.Loyalty.Reversals;

/// <param name="RefundCents">Refunded amount for a proportional reversal; null reverses everything left.</param>
public sealed record ReverseCredit(Guid OperationId, Guid CreditOperationId, long? RefundCents, string? RefundId);

/// <summary>
/// Takes back the points of an earlier credit. A partial refund takes back
/// floor(points × cumulated refunded amount / credited amount) minus what was already taken, so
/// several partial refunds never take back more than the credit, and a full refund takes it all.
/// The balance never goes negative: what the member already spent is not clawed back.
/// </summary>
public static class Reverse
{
    public static readonly Refusal OperationNotFound = new(404, "OPERATION_NOT_FOUND", "Opération introuvable pour ce commerce.");

    public static (CreditReversed? Event, Refusal? Refusal) Decide(Member member, OperationRecord credit, ReverseCredit command, DateTimeOffset now)
    {
        if (credit.Id != command.CreditOperationId || credit.MemberId != member.Id)
        {
            return (null, OperationNotFound);
        }

        long refunded;
        long toReverse;
        if (command.RefundCents is not { } refund)
        {
            refunded = credit.AmountCents - credit.RefundedCents;
            toReverse = credit.Points - credit.ReversedPoints;
        }
        else
        {
            var cumulated = Math.Min(credit.RefundedCents + Math.Max(0, refund), credit.AmountCents);
            refunded = cumulated - credit.RefundedCents;
            var target = credit.AmountCents == 0 ? credit.Points : credit.Points * cumulated / credit.AmountCents;
            toReverse = Math.Max(0, target - credit.ReversedPoints);
        }

        toReverse = Math.Min(toReverse, member.Points);
        if (toReverse == 0 && refunded == 0)
        {
            return command.RefundCents is null
                ? (null, new Refusal(409, "ALREADY_REVERSED", "Cette opération a déjà été annulée."))
                : (null, null);
        }

        return (new CreditReversed(command.OperationId, credit.Id, member.Id, member.MerchantId, toReverse,
            member.Points - toReverse, refunded, command.RefundId, now), null);
    }

    public static IEndpointRouteBuilder MapReversalApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/merchants/{slug}/operations/{operationId}/reversal", ReverseAsync)
            .WithTags("Opérations")
            .WithSummary("Annuler les points d'une opération (identifiant d'opération ou de paiement), avec Idempotency-Key");
        return app;
    }

    private static async Task<IResult> ReverseAsync(string slug, string operationId, HttpRequest request, IDocumentStore store, CancellationToken ct)
    {
        if (Access.V1Any(request, slug, Scopes.Scan, Scopes.Members, out var identity) is { } denied)
        {
            return denied;
        }

        Guid? memberId = null;
        Guid creditId = default;
        await using (var query = store.QuerySession())
        {
            if (Guid.TryParse(operationId, out var id)
                && await query.LoadAsync<OperationRecord>(id, ct) is { } operation && operation.MerchantId == identity.MerchantId)
            {
                (memberId, creditId) = (operation.MemberId, id);
            }

            if (memberId is null
                && await query.LoadAsync<PaymentRecord>(PaymentRecord.DocumentId(identity.MerchantId, operationId), ct) is { OperationId: { } op, CreditedMemberId: { } member })
            {
                (memberId, creditId) = (member, op);
            }
        }

        if (memberId is null)
        {
            return CompatResults.Problem(OperationNotFound);
        }

        var command = new ReverseCredit(Guid.CreateVersion7(), creditId, null, null);
        // The route takes no body: the key is bound to the credit it reverses.
        return await Idempotency.ExecuteAsync(request, store, identity.MerchantId, memberId.Value, $"v1-reversal:{creditId}", "", async (session, member, token) =>
        {
            // Read in the writer's transaction, so a retry after losing a race sees the other reversal.
            var credit = await session.LoadAsync<OperationRecord>(creditId, token);
            var (decided, refused) = credit is null ? (null, OperationNotFound) : Decide(member, credit, command, DateTimeOffset.UtcNow);
            if (decided is not null)
            {
                session.Store(credit!.Apply(decided));
            }

            return (decided, refused);
        }, (after, reversed) =>
        {
            var e = (CreditReversed)reversed;
            return new { operationId = e.OperationId, reversedOperationId = e.ReversedOperationId, memberId = e.MemberId, pointsReversed = e.Points, points = after.Points };
        }, ct, allowErased: true);
    }
}
