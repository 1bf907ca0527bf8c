using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Fidpass.ServiceDefaults;
using JasperFx;
using Marten;

namespace Fidpass.StripeTerminal.Readers;

/// <summary>
/// Records reader status changes in the event store (the relay publishes them as
/// <c>ReaderStatusChanged</c>) and exports the <c>fidpass_reader_status</c> gauge (1 online, 0
/// offline; labels <c>merchant</c> = slug, <c>reader_id</c>, as docs/operations.md lists it).
/// The gauge reads the stored snapshots, refreshed by <see cref="ReaderStatusMonitor"/>, so every
/// replica exports the same values and the dashboards' <c>max by</c> stays right.
/// </summary>
public sealed class ReaderStatuses : IDisposable
{
    // One gauge per process reading every live board: one host per process in production, several in
    // the integration tests, where every host's meter provider listens to every meter of the process,
    // keeps the first instrument of a name and drops the others as duplicates, so a gauge owned by one
    // host and disposed with it would silence the metric of the hosts still running.
    private static readonly ConcurrentDictionary<ReaderStatuses, byte> Live = new();
    private static readonly Lazy<Meter> Gauge = new(() =>
    {
        var meter = new Meter(Telemetry.FidpassSource);
        meter.CreateObservableGauge("fidpass.reader.status", MeasureAll, description: "Stripe Terminal reader status: 1 online, 0 offline.");
        return meter;
    });

    private readonly IDocumentStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<ReaderStatuses> _logger;
    private readonly Lock _boardLock = new();
    private Dictionary<string, ReaderState> _board = [];

    public ReaderStatuses(IDocumentStore store, TimeProvider clock, ILogger<ReaderStatuses> logger)
    {
        _store = store;
        _clock = clock;
        _logger = logger;
        Live.TryAdd(this, 0);
        _ = Gauge.Value;
    }

    public void Dispose() => Live.TryRemove(this, out _);

    /// <summary>What a Stripe answer said about the reader, now. Never fails the caller's request.</summary>
    public Task ObserveAsync(TerminalReader reader, string? status, CancellationToken ct) =>
        ObserveAsync(new ReaderObservation(reader.Id, reader.MerchantId, reader.MerchantSlug, status, _clock.GetUtcNow()), ct);

    public Task ObserveAsync(ReaderObservation seen, CancellationToken ct) =>
        AppendAsync(seen.ReaderId, state => ReaderStatusDecisions.Observe(state, seen), ct);

    public Task RemoveAsync(string readerId, CancellationToken ct) =>
        AppendAsync(readerId, state => ReaderStatusDecisions.Remove(state, _clock.GetUtcNow()), ct);

    /// <summary>Reloads the board from the stored snapshots (what other replicas recorded).</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await using var session = _store.QuerySession();
        var states = await session.Query<ReaderState>().Where(r => !r.Removed).ToListAsync(ct);
        lock (_boardLock)
        {
            _board = states.ToDictionary(s => s.ReaderId);
        }
    }

    private async Task AppendAsync(string readerId, Func<ReaderState?, IReadOnlyList<object>> decide, CancellationToken ct)
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                await using var session = _store.LightweightSession();
                var stream = await session.Events.FetchForWriting<ReaderState>(ReaderState.StreamId(readerId), ct);
                var events = decide(stream.Aggregate);
                if (events.Count == 0)
                {
                    return;
                }

                stream.AppendMany(events);
                session.CarryTrace();
                try
                {
                    await session.SaveChangesAsync(ct);
                    Show(events.Aggregate(stream.Aggregate, Fold)!);
                    return;
                }
                catch (Exception ex) when (ex is ConcurrencyException or Marten.Exceptions.ExistingStreamIdCollisionException && attempt < 5)
                {
                    // Another request recorded this reader first: decide again on what it stored.
                }
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or Marten.Exceptions.MartenCommandException or ConcurrencyException
            or Marten.Exceptions.ExistingStreamIdCollisionException)
        {
            // A status is a hint (spec 3.3): losing one must not fail the sale or the listing that saw it.
            _logger.LogWarning(ex, "Could not record the status of reader {Reader}", readerId);
        }
    }

    private static ReaderState? Fold(ReaderState? state, object e) => (state, e) switch
    {
        (null, ReaderStatusRecorded r) => ReaderState.Create(r),
        ({ } s, ReaderStatusRecorded r) => s.Apply(r),
        ({ } s, ReaderStatusRemoved r) => s.Apply(r),
        _ => state,
    };

    private void Show(ReaderState state)
    {
        lock (_boardLock)
        {
            var board = new Dictionary<string, ReaderState>(_board);
            if (state.Removed)
            {
                board.Remove(state.ReaderId);
            }
            else
            {
                board[state.ReaderId] = state;
            }

            _board = board;
        }
    }

    private Dictionary<string, ReaderState> Board()
    {
        lock (_boardLock)
        {
            return _board;
        }
    }

    /// <summary>One point per reader; boards of hosts sharing a store may both know it, so each reader counts once.</summary>
    private static IEnumerable<Measurement<int>> MeasureAll() =>
        Live.Keys.SelectMany(l => l.Board().Values).DistinctBy(r => r.ReaderId).Select(r => new Measurement<int>(
            r.Status == ReaderStatusDecisions.Online ? 1 : 0,
            new KeyValuePair<string, object?>("merchant", r.MerchantSlug ?? r.MerchantId.ToString()),
            new KeyValuePair<string, object?>("reader_id", r.ReaderId)));
}
