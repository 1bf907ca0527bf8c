using System.Security.Cryptography;
using System.Text;
using Marten;
using Stripe;

namespace Fidpass.StripeTerminal.Stripe;

/// <summary>How many keys of one operation Stripe has already answered (document id: the base key).</summary>
public sealed record SpentStripeKey(string Id, int Spent);

/// <summary>
/// Stripe stores the first answer to an idempotency key for 24 h, errors and 500s included, and
/// replays it. So a key Stripe answered is spent: the next real attempt of the same operation (the
/// till retrying, a timeout retried) is sent with the next key (<c>base</c>, <c>base~2</c>, …), while
/// Stripe.net's own retries of one call, which got no answer, keep theirs.
/// </summary>
public sealed class IdempotencyKeys(IDocumentStore store)
{
    private const int MaxReadable = 200;

    /// <summary>
    /// Keys are derived from what the till sent (sale, refund, label): anything that is not printable
    /// ASCII or too long is hashed, because an HTTP header cannot carry it (an accent gave 502, a newline 500).
    /// </summary>
    public static string HeaderSafe(string key)
    {
        if (key.Length <= MaxReadable && key.All(c => c is > ' ' and <= '~'))
        {
            return key;
        }

        var kind = new string([.. key.TakeWhile(c => c != ':').Where(c => c is > ' ' and <= '~').Take(40)]);
        return $"{kind}:sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}";
    }

    /// <summary>The key the next real attempt of <paramref name="operation"/> is sent with.</summary>
    public async Task<string> CurrentAsync(string operation, CancellationToken ct)
    {
        var id = HeaderSafe(operation);
        await using var session = store.QuerySession();
        var spent = (await session.LoadAsync<SpentStripeKey>(id, ct))?.Spent ?? 0;
        return spent == 0 ? id : $"{id}~{spent + 1}";
    }

    /// <summary>Sends one attempt; if Stripe answered it with an error, its key is spent.</summary>
    public async Task<T> SendAsync<T>(string operation, Func<RequestOptions, Task<T>> call, string? stripeAccount, CancellationToken ct)
    {
        var key = await CurrentAsync(operation, ct);
        try
        {
            return await call(StripeSetup.Call(stripeAccount, key));
        }
        catch (StripeException ex) when (ex.StripeError is not null)
        {
            await SpendAsync(operation, key, ct);
            throw;
        }
    }

    /// <summary>Marks <paramref name="key"/> as answered; the next attempt gets a new one. A no-op if it already moved on.</summary>
    public async Task SpendAsync(string operation, string key, CancellationToken ct)
    {
        var id = HeaderSafe(operation);
        await using var session = store.LightweightSession();
        var spent = (await session.LoadAsync<SpentStripeKey>(id, ct))?.Spent ?? 0;
        var current = spent == 0 ? id : $"{id}~{spent + 1}";
        if (current == key)
        {
            session.Store(new SpentStripeKey(id, spent + 1));
            await session.SaveChangesAsync(ct);
        }
    }
}
