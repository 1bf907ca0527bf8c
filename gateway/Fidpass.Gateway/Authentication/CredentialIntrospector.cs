using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Fidpass.Gateway.Authentication;

public sealed record Introspection(Guid MerchantId, string Slug, string Kind, Guid CredentialId, IReadOnlyList<string> Scopes)
{
    // The identity header values, formatted once per cached credential rather than on every request.
    internal string MerchantIdText { get; } = MerchantId.ToString("D", CultureInfo.InvariantCulture);

    internal string CredentialIdText { get; } = CredentialId.ToString("D", CultureInfo.InvariantCulture);

    internal string ScopesText { get; } = string.Join(' ', Scopes);
}

public sealed record MerchantSummary(Guid MerchantId, string Slug, string Name)
{
    internal string MerchantIdText { get; } = MerchantId.ToString("D", CultureInfo.InvariantCulture);
}

/// <summary>merchant-token could not answer (down, timeout, 5xx): the request fails with a 503, nothing is cached.</summary>
public sealed class IntrospectionUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Resolves credentials and slugs through merchant-token's internal routes, with a short in-memory
/// cache per replica: a valid credential ~30 s, an invalid one ~2 s, keyed by the SHA-256 of the
/// secret (the secret itself is never kept). <see cref="Revoke"/> (driven by
/// <c>CredentialRevoked</c>) evicts at once and remembers the id for a while, so an introspection
/// that was already in flight when the revocation arrived cannot put the credential back.
/// </summary>
public sealed class CredentialIntrospector(IHttpClientFactory clients, IConfiguration configuration, TimeProvider clock)
{
    public const string HttpClientName = "merchant-token";

    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<string, CacheEntry<Introspection>> _credentials = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CacheEntry<MerchantSummary>> _merchants = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revoked = new();
    private readonly TimeSpan _positive = Seconds(configuration, "Gateway:Introspection:CacheSeconds", 30);
    private readonly TimeSpan _negative = Seconds(configuration, "Gateway:Introspection:NegativeCacheSeconds", 2);
    private readonly TimeSpan _merchantPositive = Seconds(configuration, "Gateway:Introspection:MerchantCacheSeconds", 300);

    private sealed record CacheEntry<T>(T? Value, DateTimeOffset ExpiresAt);

    /// <summary>The cache key (and rate-limit partition) of a secret: its SHA-256, never the secret.</summary>
    public static string Fingerprint(string secret) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>A cache hit answers synchronously: the per-request path allocates no task and makes no call.</summary>
    public ValueTask<Introspection?> IntrospectAsync(string secret, string fingerprint, CancellationToken cancellationToken)
    {
        if (_credentials.TryGetValue(fingerprint, out var cached) && cached.ExpiresAt > clock.GetUtcNow())
        {
            return ValueTask.FromResult(cached.Value is { } hit && IsRevoked(hit.CredentialId) ? null : cached.Value);
        }

        return new ValueTask<Introspection?>(IntrospectUncachedAsync(secret, fingerprint, cancellationToken));
    }

    public ValueTask<MerchantSummary?> FindMerchantAsync(string slug, CancellationToken cancellationToken)
    {
        if (_merchants.TryGetValue(slug, out var cached) && cached.ExpiresAt > clock.GetUtcNow())
        {
            return ValueTask.FromResult(cached.Value);
        }

        return new ValueTask<MerchantSummary?>(FindMerchantUncachedAsync(slug, cancellationToken));
    }

    private async Task<Introspection?> IntrospectUncachedAsync(string secret, string fingerprint, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var found = await CallAsync<Introspection>(
            () => clients.CreateClient(HttpClientName).PostAsJsonAsync(new Uri("/internal/introspect", UriKind.Relative), new { credential = secret }, cancellationToken), cancellationToken);
        if (found is not null && IsRevoked(found.CredentialId))
        {
            found = null;
        }

        Remember(_credentials, fingerprint, new CacheEntry<Introspection>(found, now + (found is null ? _negative : _positive)));
        return found;
    }

    private async Task<MerchantSummary?> FindMerchantUncachedAsync(string slug, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var found = await CallAsync<MerchantSummary>(
            () => clients.CreateClient(HttpClientName).GetAsync(new Uri("/internal/merchants/" + Uri.EscapeDataString(slug), UriKind.Relative), cancellationToken), cancellationToken);
        Remember(_merchants, slug, new CacheEntry<MerchantSummary>(found, now + (found is null ? _negative : _merchantPositive)));
        return found;
    }

    /// <summary>Forget every cached use of this credential on this replica, now and for any answer still in flight.</summary>
    public void Revoke(Guid credentialId)
    {
        var now = clock.GetUtcNow();
        _revoked[credentialId] = now;
        foreach (var (key, entry) in _credentials)
        {
            if (entry.Value?.CredentialId == credentialId)
            {
                _credentials.TryRemove(key, out _);
            }
        }

        // Ids only need remembering longer than a cached answer can live.
        foreach (var (id, at) in _revoked)
        {
            if (now - at > _positive + _positive)
            {
                _revoked.TryRemove(id, out _);
            }
        }
    }

    private bool IsRevoked(Guid credentialId) => _revoked.ContainsKey(credentialId);

    private static void Remember<T>(ConcurrentDictionary<string, CacheEntry<T>> cache, string key, CacheEntry<T> entry)
    {
        if (cache.Count >= MaxEntries)
        {
            cache.Clear();
        }

        cache[key] = entry;
    }

    private static async Task<T?> CallAsync<T>(Func<Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
        where T : class
    {
        HttpResponseMessage response;
        try
        {
            response = await send();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new IntrospectionUnavailableException("merchant-token did not answer.", ex);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new IntrospectionUnavailableException($"merchant-token answered {(int)response.StatusCode}.");
            }

            return await response.Content.ReadFromJsonAsync<T>(cancellationToken);
        }
    }

    private static TimeSpan Seconds(IConfiguration configuration, string key, double fallback) =>
        TimeSpan.FromSeconds(double.TryParse(configuration[key], System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 0 ? s : fallback);
}
