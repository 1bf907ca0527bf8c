using JasperFx.Events.Daemon.HighWater;
using Marten;
using Marten.Services;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// Wakes this process's async daemon as soon as one of its own sessions commits events, so the relay
/// publishes within milliseconds without PostgreSQL LISTEN/NOTIFY. Marten's NOTIFY uses one channel
/// for every schema (each append woke the daemons of all four services, each then ran a high-water
/// query and wrote its progression) and every notifying commit takes PostgreSQL's database-wide
/// notify lock, so commits queued one behind the other. Appends made by another process (a replica
/// without the daemon) are found by polling (<see cref="Infrastructure"/> sets short intervals).
/// Wake-ups are at least <see cref="MinimumSpacing"/> apart: under load one high-water pass covers
/// many commits instead of one pass (and one progression write) per commit. At 5 ms, 300 scans/s
/// still caused 0.76 progression writes per event (each a committed transaction); at 20 ms, 0.30,
/// and the whole machine's CPU per scan fell from 5.6 to 4.4 ms. 10 ms and 30 ms did worse on both
/// the scans' and the payments' p99 (docs/benchmarks.md). A commit after a quiet spell is relayed at
/// once; in a steady flow an event waits at most this long for its pass.
/// </summary>
internal sealed class AppendWakeup : DocumentSessionListenerBase, IDaemonWakeup
{
    public static readonly TimeSpan MinimumSpacing = TimeSpan.FromMilliseconds(20);

    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _lastWake;

    public async Task WaitAsync(TimeSpan timeout, CancellationToken token)
    {
        var sinceLast = TimeSpan.FromTicks(Math.Max(0, DateTime.UtcNow.Ticks - Interlocked.Read(ref _lastWake)));
        if (sinceLast < MinimumSpacing)
        {
            await Task.Delay(MinimumSpacing - sinceLast, token);
        }

        await _signal.WaitAsync(timeout, token);
        Interlocked.Exchange(ref _lastWake, DateTime.UtcNow.Ticks);
    }

    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        if (commit.GetEvents().Any() && _signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another commit signalled at the same instant: one wake-up covers both.
            }
        }

        return Task.CompletedTask;
    }

    // The daemon disposes its wake-up when it stops, but the store (and this listener) live on: the
    // semaphore holds no kernel handle (AvailableWaitHandle is never read), so nothing is released.
    public void Dispose()
    {
    }
}
