using System.Collections.Concurrent;

namespace Fidpass.Gateway.Authentication;

/// <summary>
/// A per-replica cache of merchant-token's answers in which each key has at most one call in flight.
/// At 1,000 requests/s an expiring credential used to send every request that arrived during the
/// call to merchant-token at once, and they all waited: the gateway's p99 over direct went up by
/// 120 ms in a 30 s run. Now concurrent misses share one call, and an entry used in the last fifth
/// of its life is renewed in the background while the cached answer keeps serving, so a credential
/// in steady use never makes a request wait. A renewal that fails leaves the entry to expire as
/// before; the next request then calls itself and gets the error.
/// </summary>
internal sealed class RefreshingCache<T>(TimeProvider clock, int maxEntries)
    where T : class
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<T?>> _loading = new(StringComparer.Ordinal);

    private sealed record Entry(T? Value, DateTimeOffset RenewAt, DateTimeOffset ExpiresAt);

    /// <summary>
    /// The cached answer, else <paramref name="load"/>'s (called with <paramref name="state"/>): the
    /// answer (null for "unknown") and how long it may be kept, counted from when the call started.
    /// A cache hit completes synchronously and allocates nothing when <paramref name="load"/> is static.
    /// </summary>
    public ValueTask<T?> GetAsync<TState>(string key, TState state, Func<TState, Task<(T? Value, TimeSpan Lifetime)>> load, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry) && entry.ExpiresAt > now)
        {
            if (entry.Value is not null && now >= entry.RenewAt && !_loading.ContainsKey(key))
            {
                // Nobody waits for it; a failure is observed here so it is never reported as unobserved.
                _ = Load(key, state, load).ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            return ValueTask.FromResult(entry.Value);
        }

        // Shared by every caller of this key: one caller giving up does not cancel it for the others.
        return new ValueTask<T?>(Load(key, state, load).WaitAsync(cancellationToken));
    }

    /// <summary>Forgets every entry whose value matches, e.g. a revoked credential.</summary>
    public void RemoveWhere(Func<T, bool> match)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.Value is { } value && match(value))
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    private Task<T?> Load<TState>(string key, TState state, Func<TState, Task<(T? Value, TimeSpan Lifetime)>> load)
    {
        var call = new TaskCompletionSource<T?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _loading.GetOrAdd(key, call.Task);
        if (running == call.Task)
        {
            _ = RunAsync(key, state, load, call);
        }

        return running;
    }

    private async Task RunAsync<TState>(string key, TState state, Func<TState, Task<(T? Value, TimeSpan Lifetime)>> load, TaskCompletionSource<T?> call)
    {
        try
        {
            var started = clock.GetUtcNow();
            var (value, lifetime) = await load(state);
            if (_entries.Count >= maxEntries)
            {
                _entries.Clear();
            }

            _entries[key] = new Entry(value, started + (lifetime * 0.8), started + lifetime);
            call.SetResult(value);
        }
        catch (Exception ex)
        {
            call.SetException(ex);
        }
        finally
        {
            _loading.TryRemove(new KeyValuePair<string, Task<T?>>(key, call.Task));
        }
    }
}
