using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Fidpass.Loyalty.Members;
using Fidpass.ServiceDefaults;
using Marten;
using Npgsql;

namespace Fidpass.Loyalty.Crediting;

/// <summary>
/// Group commit of till credits (<c>Loyalty:GroupCommit:Enabled</c>, on by default). The credits that
/// arrive while a commit is under way are read in one round trip and written in the next transaction,
/// each answered with its own result: one read and one commit (one WAL flush) for several members
/// instead of one each. Nothing waits for a batch to fill: a lone credit is written at once, and
/// the gathering window is the commit before it (a millisecond or a few under load).
/// Per-member order holds: a request keeps its member's turn (<see cref="MemberLocks"/>) until its
/// answer, so a batch never holds two credits of one member. A batch that cannot be written (another
/// writer moved one of its streams, a key taken meanwhile, a request PostgreSQL refuses) writes
/// nothing, and its credits are then written one by one, so a failure stays with its own request.
/// </summary>
public sealed class CreditBatcher(IDocumentStore store, TimeProvider time, IConfiguration configuration, ILogger<CreditBatcher> logger) : IHostedService
{
    private static readonly ActivitySource Source = new(Telemetry.FidpassSource);
    private static readonly Histogram<int> BatchSizes = new Meter(Telemetry.FidpassSource).CreateHistogram<int>(
        "fidpass.loyalty.credit_batch_size", "{credit}", "Till credits written together in one transaction (group commit).");

    private readonly Channel<PendingCredit> _queue = Channel.CreateUnbounded<PendingCredit>();
    private readonly bool _enabled = configuration.GetValue("Loyalty:GroupCommit:Enabled", true);
    private readonly int _maxBatch = Math.Clamp(configuration.GetValue("Loyalty:GroupCommit:MaxBatch", 64), 1, 1000);
    private Task[] _writers = [];
    private long _writtenTogether;

    public IDocumentStore Store { get; } = store;

    public TimeProvider Time { get; } = time;

    /// <summary>Credits committed in a transaction with at least one other credit since start.</summary>
    public long WrittenTogether => Interlocked.Read(ref _writtenTogether);

    /// <summary>Queues a credit for the next group commit; false when group commit is off or the service is stopping.</summary>
    public bool TryEnqueue(PendingCredit credit) => _enabled && _queue.Writer.TryWrite(credit);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_enabled)
        {
            // Two writers by default: one commits while the other reads its batch, so PostgreSQL is not
            // idle waiting on this process; more writers only make the batches smaller.
            var writers = Math.Clamp(configuration.GetValue("Loyalty:GroupCommit:Writers", 2), 1, 16);
            _writers = [.. Enumerable.Range(0, writers).Select(_ => Task.Run(WriteAsync, CancellationToken.None))];
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops taking credits and writes those already queued.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers).WaitAsync(cancellationToken);
    }

    private async Task WriteAsync()
    {
        var batch = new List<PendingCredit>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var credit))
            {
                batch.Add(credit);
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch);
            }
        }
    }

    private async Task CommitAsync(List<PendingCredit> batch)
    {
        // The batch's span, linked to every request it answers; its database spans hang under it.
        using var activity = Source.HasListeners()
            ? Source.StartActivity(ActivityKind.Internal, default(ActivityContext), links: [.. Links(batch)], name: "credit batch")
            : null;
        activity?.SetTag("fidpass.credit.batch_size", batch.Count);
        BatchSizes.Record(batch.Count);
        try
        {
            var answers = await WriteBatchAsync(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Answer.TrySetResult(answers[i]);
            }
        }
        catch (Exception e) when (!MayHaveCommitted(e))
        {
            // Nothing was written: each credit is tried again alone, so only the one at fault fails.
            logger.LogWarning(e, "A batch of {Count} credits was not written; they are written one by one", batch.Count);
            foreach (var credit in batch)
            {
                credit.Answer.TrySetResult(null);
            }
        }
        catch (Exception e)
        {
            // The connection failed around the commit: whether it happened is unknown, so nothing is
            // tried again here. Each request fails as it would have alone; a till's retry with its
            // Idempotency-Key finds the first answer if there was one.
            foreach (var credit in batch)
            {
                credit.Answer.TrySetException(e);
            }
        }
    }

    /// <summary>The answer of each credit, in order; null for a credit to be written alone.</summary>
    private async Task<IResult?[]> WriteBatchAsync(List<PendingCredit> batch)
    {
        // Not cancellable: the requests wait for this answer, and the host waits for the writers.
        var ct = CancellationToken.None;
        await using var session = Store.LightweightSession();
        var reads = CreditHandler.Read(session.CreateBatchQuery(), batch, exclusive: false, out var execute);
        await execute(ct);

        var answers = new IResult?[batch.Count];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var members = new HashSet<Guid>();
        var written = 0;
        var now = Time.GetUtcNow();
        for (var i = 0; i < batch.Count; i++)
        {
            var credit = batch[i];
            if ((credit.RecordId is { } key && !keys.Add(key)) || (credit.Request.MemberId is { } memberId && !members.Add(memberId)))
            {
                // One key twice in a batch (a client racing itself on two members), or one member
                // twice (another process's turn): the second is written alone after this commit,
                // so it sees the first.
                continue;
            }

            var (result, staged) = await CreditHandler.DecideAsync(credit, reads[i], now);
            if (staged is { } write)
            {
                CreditHandler.Stage(session, credit, write);
                written++;
            }

            answers[i] = result;
        }

        if (written > 0)
        {
            await session.SaveChangesAsync(ct);
            if (written > 1)
            {
                Interlocked.Add(ref _writtenTogether, written);
            }
        }

        return answers;
    }

    /// <summary>
    /// True when the transaction may have committed: the connection broke (or timed out) without
    /// PostgreSQL saying what happened. A conflict, an error PostgreSQL reported, or an exception
    /// raised before anything was sent means nothing was written.
    /// </summary>
    internal static bool MayHaveCommitted(Exception exception)
    {
        if (Conflicts.IsConflict(exception))
        {
            return false;
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException)
            {
                return false;
            }

            if (e is NpgsqlException or TimeoutException or OperationCanceledException or IOException)
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<ActivityLink> Links(List<PendingCredit> batch)
    {
        foreach (var credit in batch)
        {
            if (ActivityContext.TryParse(credit.TraceParent, null, out var context))
            {
                yield return new ActivityLink(context);
            }
        }
    }
}
