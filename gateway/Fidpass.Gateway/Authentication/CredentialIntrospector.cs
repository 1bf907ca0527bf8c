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
/// cache per replica (<see cref="RefreshingCache{T}"/>): a valid credential ~30 s, an invalid one
/// ~2 s, keyed by the SHA-256 of the secret (the secret itself is never kept). <see cref="Revoke"/>
/// (driven by <c>CredentialRevoked</c>) evicts at once and remembers the id for a while, so an
/// introspection that was already in flight when the revocation arrived cannot put the credential back.
/// </summary>
public sealed class CredentialIntrospector(IHttpClientFactory clients, IConfiguration configuration, TimeProvider clock)
{
    public const string HttpClientName = "merchant-token";

    private const int MaxEntries = 100_000;
    private readonly RefreshingCache<Introspection> _credentials = new(clock, MaxEntries);
    private readonly RefreshingCache<MerchantSummary> _merchants = new(clock, MaxEntries);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revoked = new();
    private readonly TimeSpan _positive = Seconds(configuration, "Gateway:Introspection:CacheSeconds", 30);
    private readonly TimeSpan _negative = Seconds(configuration, "Gateway:Introspection:NegativeCacheSeconds", 2);
    private readonly TimeSpan _merchantPositive = Seconds(configuration, "Gateway:Introspection:MerchantCacheSeconds", 300);

    /// <summary>The cache key (and rate-limit partition) of a secret: its SHA-256, never the secret.</summary>
    public static string Fingerprint(string secret) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>A cache hit completes synchronously, allocates nothing and makes no call.</summary>
    public async ValueTask<Introspection?> IntrospectAsync(string secret, string fingerprint, CancellationToken cancellationToken)
    {
        var found = await _credentials.GetAsync(fingerprint, (Self: this, Secret: secret), static s => s.Self.IntrospectUncachedAsync(s.Secret), cancellationToken);
        return found is not null && IsRevoked(found.CredentialId) ? null : found;
    }

    public ValueTask<MerchantSummary?> FindMerchantAsync(string slug, CancellationToken cancellationToken) =>
        _merchants.GetAsync(slug, (Self: this, Slug: slug), static s => s.Self.FindMerchantUncachedAsync(s.Slug), cancellationToken);

    private async Task<(Introspection?, TimeSpan)> IntrospectUncachedAsync(string secret)
    {
        var answer = await CallAsync<Introspection>(() => clients.CreateClient(HttpClientName)
            .PostAsJsonAsync(new Uri("/internal/introspect", UriKind.Relative), new { credential = secret }, CancellationToken.None));
        return answer is null || IsRevoked(answer.CredentialId) ? (null, _negative) : (answer, _positive);
    }

    private async Task<(MerchantSummary?, TimeSpan)> FindMerchantUncachedAsync(string slug)
    {
        var answer = await CallAsync<MerchantSummary>(() => clients.CreateClient(HttpClientName)
            .GetAsync(new Uri("/internal/merchants/" + Uri.EscapeDataString(slug), UriKind.Relative), CancellationToken.None));
        return (answer, answer is null ? _negative : _merchantPositive);
    }

    /// <summary>Forget every cached use of this credential on this replica, now and for any answer still in flight.</summary>
    public void Revoke(Guid credentialId)
    {
        var now = clock.GetUtcNow();
        _revoked[credentialId] = now;
        _credentials.RemoveWhere(cached => cached.CredentialId == credentialId);

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

    /// <summary>One call to merchant-token, on behalf of every request waiting for it (so no request's
    /// cancellation applies; the client's own timeout does).</summary>
    private static async Task<T?> CallAsync<T>(Func<Task<HttpResponseMessage>> send)
        where T : class
    {
        HttpResponseMessage response;
        try
        {
            response = await send();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
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

            return await response.Content.ReadFromJsonAsync<T>();
        }
    }

    private static TimeSpan Seconds(IConfiguration configuration, string key, double fallback) =>
        TimeSpan.FromSeconds(double.TryParse(configuration[key], System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 0 ? s : fallback);
}
