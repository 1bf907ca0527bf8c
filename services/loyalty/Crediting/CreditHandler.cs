using System.Diagnostics;
using System.Text.Json;
using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;
using Fidpass.ServiceDefaults;
using JasperFx.Events;
using Marten;
using Marten.Services.BatchQuerying;

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

/// <summary>
/// A credit waiting for its answer: the request, how its route renders refusals and successes, and
/// the trace of the HTTP request (its event carries it, whichever transaction writes it).
/// </summary>
public sealed class PendingCredit(CreditRequest request, Func<Refusal, IResult> refuse, Func<Member, PointsCredited, object> render)
{
    public CreditRequest Request { get; } = request;
    public Func<Refusal, IResult> Refuse { get; } = refuse;
    public Func<Member, PointsCredited, object> Render { get; } = render;
    public string? TraceParent { get; } = Activity.Current?.Id;

    public string? RecordId { get; } = request.IdempotencyKey is { } key ? Idempotency.DocumentId(request.Identity.MerchantId, key) : null;

    /// <summary>Set by a group commit: the answer, or null when this credit must be written alone.</summary>
    internal TaskCompletionSource<IResult?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The shared write path of every till route that credits (compat scan and points, v1 scans).</summary>
public static class CreditHandler
{
    public static async Task<IResult> HandleAsync(
        CreditBatcher batcher,
        CreditRequest request,
        Func<Refusal, IResult> refuse,
        Func<Member, PointsCredited, object> render,
        CancellationToken ct)
    {
        var credit = new PendingCredit(request, refuse, render);
        using var turn = request.MemberId is { } memberId ? await MemberLocks.AcquireAsync(memberId, ct) : null;

        // The member's turn is held until the answer, so one process never puts two credits of a
        // member in flight at once; the answer is awaited without ct: a commit under way finishes
        // either way, and the turn must outlive it.
        if (batcher.TryEnqueue(credit) && await credit.Answer.Task is { } answer)
        {
            return answer;
        }

        return await CommitAloneAsync(batcher.Store, batcher.Time, credit, ct);
    }

    /// <summary>
    /// One credit in its own transaction (the way without group commit, and the way of a credit its
    /// batch could not write). Optimistic first (no database lock: the common case); after losing a
    /// race to another writer, the retry takes the stream's row lock so writers queue instead of spinning.
    /// </summary>
    public static async Task<IResult> CommitAloneAsync(IDocumentStore store, TimeProvider time, PendingCredit credit, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var reads = Read(session.CreateBatchQuery(), [credit], exclusive: attempt > 1, out var execute);
            await execute(ct);
            var (result, staged) = await DecideAsync(credit, reads[0], time.GetUtcNow());
            if (staged is not { } write)
            {
                return result;
            }

            Stage(session, credit, write);
            try
            {
                await session.SaveChangesAsync(ct);
                return result;
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && attempt < Conflicts.MaxAttempts)
            {
                await Conflicts.BackOffAsync(attempt, ct);
            }
        }
    }

    /// <summary>What one credit's decision needs, read in a shared batch query.</summary>
    internal sealed record Reads(Task<IdempotencyRecord?>? Stored, Task<IEventStream<Member>>? Stream, Task<LoyaltyProgram?> Program);

    /// <summary>
    /// Queues in one batch query what every credit needs: its stored answer, its member's stream, its
    /// merchant's programme (once per merchant). <paramref name="execute"/> runs the single round trip.
    /// </summary>
    internal static Reads[] Read(IBatchedQuery batch, IReadOnlyList<PendingCredit> credits, bool exclusive, out Func<CancellationToken, Task> execute)
    {
        var programs = new Dictionary<Guid, Task<LoyaltyProgram?>>();
        var reads = new Reads[credits.Count];
        for (var i = 0; i < credits.Count; i++)
        {
            var request = credits[i].Request;
            if (!programs.TryGetValue(request.Identity.MerchantId, out var program))
            {
                programs[request.Identity.MerchantId] = program = batch.Load<LoyaltyProgram>(request.Identity.MerchantId);
            }

            reads[i] = new Reads(
                credits[i].RecordId is { } recordId ? batch.Load<IdempotencyRecord>(recordId) : null,
                request.MemberId is { } id ? exclusive ? batch.Events.FetchForExclusiveWriting<Member>(id) : batch.Events.FetchForWriting<Member>(id) : null,
                program);
        }

        execute = batch.Execute;
        return reads;
    }

    /// <summary>
    /// One credit's answer from what was read: a replay, a refusal, or the credit to write with the
    /// answer it gets once written. The spec's order: stored answer, member, then points.
    /// </summary>
    internal static async Task<(IResult Result, (IEventStream<Member> Stream, PointsCredited Credited, string Body)? Staged)> DecideAsync(
        PendingCredit credit, Reads reads, DateTimeOffset now)
    {
        var request = credit.Request;
        if (reads.Stored is not null && await reads.Stored is { } stored)
        {
            return (stored.RequestHash == request.RequestHash ? Idempotency.Replay(stored) : credit.Refuse(Idempotency.KeyReused), null);
        }

        var stream = reads.Stream is null ? null : await reads.Stream;
        var member = stream?.Aggregate;
        if (member is null || member.Erased || member.MerchantId != request.Identity.MerchantId)
        {
            return (credit.Refuse(CompatResults.MemberNotFound), null);
        }

        if (request.InputRefusal is not null)
        {
            return (credit.Refuse(request.InputRefusal), null);
        }

        var program = await reads.Program ?? LoyaltyProgram.Default(member.MerchantId);
        var command = new CreditPoints(Guid.CreateVersion7(), request.Input!, request.Source, null, ClampToCaps: false);
        var (credited, refusal) = CreditDecider.Decide(member, program, command, now);
        if (refusal is not null || credited is null)
        {
            return (credit.Refuse(refusal ?? CompatResults.MemberNotFound), null);
        }

        var body = JsonSerializer.Serialize(credit.Render(member.Apply(credited), credited), JsonSerializerOptions.Web);
        return (Results.Text(body, "application/json; charset=utf-8", System.Text.Encoding.UTF8, StatusCodes.Status200OK), (stream!, credited, body));
    }

    /// <summary>Stages a decided credit: its event (with its own request's trace), operation record and stored answer.</summary>
    internal static void Stage(IDocumentSession session, PendingCredit credit, (IEventStream<Member> Stream, PointsCredited Credited, string Body) write)
    {
        var appended = write.Credited.AsEvent();
        if (credit.TraceParent is { } traceParent)
        {
            appended.SetHeader(EventRelay.TraceParentHeader, traceParent);
            // As a session opened in the request would have stamped it, also when a batch writes it.
            if (ActivityContext.TryParse(traceParent, null, out var context))
            {
                appended.CorrelationId = context.TraceId.ToHexString();
            }
        }

        write.Stream.AppendOne(appended);
        session.Insert(OperationRecord.For(write.Credited));
        if (credit.RecordId is { } recordId)
        {
            session.Insert(new IdempotencyRecord(recordId, credit.Request.RequestHash, StatusCodes.Status200OK, write.Body, DateTimeOffset.UtcNow, write.Credited.MemberId));
        }
    }
}
