using System.Text.Json;
using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.Loyalty.Crediting;

/// <summary>A credit request from a till, after authentication and barcode reading.</summary>
public sealed record CreditRequest(
    GatewayIdentity Identity,
    Guid? MemberId,
    PointsInput? Input,
    Refusal? InputRefusal,
    string? IdempotencyKey,
    string RequestHash,
    PointsSource Source);

/// <summary>The shared write path of every till route that credits (compat scan and points, v1 scans).</summary>
public static class CreditHandler
{
    public static async Task<IResult> HandleAsync(
        IDocumentStore store,
        TimeProvider time,
        CreditRequest request,
        Func<Refusal, IResult> refuse,
        Func<Member, PointsCredited, object> render,
        CancellationToken ct)
    {
        var recordId = request.IdempotencyKey is null ? null : Idempotency.DocumentId(request.Identity.MerchantId, request.IdempotencyKey);
        using var turn = request.MemberId is { } memberId ? await MemberLocks.AcquireAsync(memberId, ct) : null;
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();

            // One round trip reads everything the decision needs. Optimistic first (no database lock:
            // the common case); after losing a race to another replica, the retry takes the stream's
            // row lock so the writers queue instead of spinning.
            var batch = session.CreateBatchQuery();
            var storedAnswer = recordId is null ? null : batch.Load<IdempotencyRecord>(recordId);
            var fetch = request.MemberId is { } id
                ? attempt == 1 ? batch.Events.FetchForWriting<Member>(id) : batch.Events.FetchForExclusiveWriting<Member>(id)
                : null;
            var programLoad = batch.Load<LoyaltyProgram>(request.Identity.MerchantId);
            await batch.Execute(ct);

            if (storedAnswer is not null && await storedAnswer is { } stored)
            {
                return stored.RequestHash == request.RequestHash ? Idempotency.Replay(stored) : refuse(Idempotency.KeyReused);
            }

            var stream = fetch is null ? null : await fetch;
            var member = stream?.Aggregate;
            if (member is null || member.Erased || member.MerchantId != request.Identity.MerchantId)
            {
                return refuse(CompatResults.MemberNotFound);
            }

            if (request.InputRefusal is not null)
            {
                return refuse(request.InputRefusal);
            }

            var program = await programLoad ?? LoyaltyProgram.Default(member.MerchantId);
            var command = new CreditPoints(Guid.CreateVersion7(), request.Input!, request.Source, null, ClampToCaps: false);
            var (credited, refusal) = CreditDecider.Decide(member, program, command, time.GetUtcNow());
            if (refusal is not null || credited is null)
            {
                return refuse(refusal ?? CompatResults.MemberNotFound);
            }

            stream!.AppendOne(credited);
            session.Insert(OperationRecord.For(credited));
            var body = JsonSerializer.Serialize(render(member.Apply(credited), credited), JsonSerializerOptions.Web);
            if (recordId is not null)
            {
                session.Insert(new IdempotencyRecord(recordId, request.RequestHash, StatusCodes.Status200OK, body, DateTimeOffset.UtcNow, member.Id));
            }

            session.CarryTrace();
            try
            {
                await session.SaveChangesAsync(ct);
                return Results.Text(body, "application/json; charset=utf-8", System.Text.Encoding.UTF8, StatusCodes.Status200OK);
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && attempt < Conflicts.MaxAttempts)
            {
                await Conflicts.BackOffAsync(attempt, ct);
            }
        }
    }
}
