using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Members;
using Marten;

namespace Fidpass.Loyalty.Http;

/// <summary>
/// The first answer to a request carrying <c>Idempotency-Key</c>, stored in the same transaction as
/// the events it caused: a retry replays it byte for byte and never credits twice, even after a
/// restart. Document id = merchant + key, so the database refuses a second first answer. The answer
/// shows the member's name and e-mail, so erasing the member deletes it (<see cref="MemberId"/>).
/// </summary>
public sealed record IdempotencyRecord(string Id, string RequestHash, int Status, string Body, DateTimeOffset At, Guid MemberId);

public static class Idempotency
{
    public const string Header = "Idempotency-Key";
    public const int MaxKeyLength = 255;

    public static readonly Refusal KeyReused = new(422, "IDEMPOTENCY_KEY_REUSED",
        "Cette clé d'idempotence a déjà servi pour une autre requête.");

    public static readonly Refusal InvalidKey = new(400, "INVALID_IDEMPOTENCY_KEY",
        $"Idempotency-Key doit être une seule valeur de 1 à {MaxKeyLength} caractères.");

    /// <summary>The key, null when absent, or a refusal when repeated or out of bounds.</summary>
    public static (string? Key, Refusal? Refusal) Read(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(Header, out var values))
        {
            return (null, null);
        }

        var key = values.Count == 1 ? values[0]?.Trim() : null;
        return string.IsNullOrEmpty(key) || key.Length > MaxKeyLength ? (null, InvalidKey) : (key, null);
    }

    public static string DocumentId(Guid merchantId, string key) => $"{merchantId:N}:{key}";

    /// <summary>What the key is bound to: route and exact body.</summary>
    public static string Hash(string route, string body) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(route + "\n" + body)));

    public static IResult Replay(IdempotencyRecord record) =>
        Results.Text(record.Body, "application/json; charset=utf-8", Encoding.UTF8, record.Status);

    /// <summary>
    /// A balance-changing v1 route (adjustment, redemption, reversal) run through <see cref="MemberWriter"/>
    /// honouring <c>Idempotency-Key</c> as the scan does: the first 200 answer is stored with the event,
    /// the same key and body replay it, another body with the key is refused. <paramref name="route"/>
    /// names the route and its target, so a key is bound to one operation on one member.
    /// </summary>
    public static async Task<IResult> ExecuteAsync(
        HttpRequest request, IDocumentStore store, Guid merchantId, Guid memberId, string route, string rawBody,
        Func<IDocumentSession, Member, CancellationToken, Task<(object? Event, Refusal? Refusal)>> decide,
        Func<Member, object, object> render, CancellationToken ct, bool allowErased = false)
    {
        var (key, keyRefusal) = Read(request);
        if (keyRefusal is not null)
        {
            return CompatResults.Problem(keyRefusal);
        }

        var recordId = key is null ? null : DocumentId(merchantId, key);
        var hash = Hash(route, rawBody);
        IdempotencyRecord? stored = null;
        string? body = null;
        var (_, _, refusal) = await MemberWriter.ExecuteAsync(store, merchantId, memberId, async (session, member, token) =>
        {
            // Read in the writer's transaction: a concurrent first use of the key makes this one retry and replay it.
            if (recordId is not null && await session.LoadAsync<IdempotencyRecord>(recordId, token) is { } first)
            {
                stored = first;
                return (null, null);
            }

            var (decided, refused) = await decide(session, member, token);
            if (decided is not null)
            {
                body = JsonSerializer.Serialize(render(MemberWriter.Apply(member, decided), decided), JsonSerializerOptions.Web);
                if (recordId is not null)
                {
                    session.Insert(new IdempotencyRecord(recordId, hash, StatusCodes.Status200OK, body, DateTimeOffset.UtcNow, member.Id));
                }
            }

            return (decided, refused);
        }, ct, allowErased);

        if (stored is not null)
        {
            return stored.RequestHash == hash ? Replay(stored) : CompatResults.Problem(KeyReused);
        }

        return refusal is not null || body is null
            ? CompatResults.Problem(refusal ?? MemberWriter.NotFound)
            : Results.Text(body, "application/json; charset=utf-8", Encoding.UTF8, StatusCodes.Status200OK);
    }
}
