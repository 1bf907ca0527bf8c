namespace Fidpass.Loyalty.Members;

/// <summary>
/// Writers of one member inside this process take turns before touching the database, so a burst
/// on one card (a till retrying, 50 concurrent credits) queues in memory instead of holding pooled
/// connections and losing optimistic-concurrency races. Correctness does not depend on it: across
/// replicas the stream version still rejects a stale writer, who then retries.
/// Striped: a fixed set of semaphores, a member maps to one of them.
/// </summary>
public static class MemberLocks
{
    private static readonly SemaphoreSlim[] Stripes = [.. Enumerable.Range(0, 1024).Select(_ => new SemaphoreSlim(1, 1))];

    public static async Task<IDisposable> AcquireAsync(Guid memberId, CancellationToken ct)
    {
        var stripe = Stripes[(memberId.GetHashCode() & int.MaxValue) % Stripes.Length];
        await stripe.WaitAsync(ct);
        return new Releaser(stripe);
    }

    private sealed class Releaser(SemaphoreSlim stripe) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                stripe.Release();
            }
        }
    }
}
