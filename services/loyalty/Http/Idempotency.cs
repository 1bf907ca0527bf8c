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
        var (attempt, keyRefusal) = Begin(request, merchantId, route, rawBody);
        if (keyRefusal is not null)
        {
            return CompatResults.Problem(keyRefusal);
        }

        var (_, _, refusal) = await MemberWriter.ExecuteAsync(store, merchantId, memberId, async (session, member, token) =>
        {
            if (await attempt!.AlreadyAnsweredAsync(session, token))
            {
                return (null, null);
            }

            var (decided, refused) = await decide(session, member, token);
            if (decided is not null)
            {
                attempt.Answer(session, render(MemberWriter.Apply(member, decided), decided), member.Id);
            }

            return (decided, refused);
        }, ct, allowErased);

        return attempt!.Result(refusal ?? MemberWriter.NotFound);
    }

    /// <summary>The key of a request that writes, checked, or the refusal of a malformed key.</summary>
    public static (Attempt? Attempt, Refusal? Refusal) Begin(HttpRequest request, Guid merchantId, string route, string rawBody)
    {
        var (key, refusal) = Read(request);
        return refusal is not null ? (null, refusal) : (new Attempt(key is null ? null : DocumentId(merchantId, key), Hash(route, rawBody)), null);
    }

    /// <summary>
    /// One write under an optional key, run inside a writer's transaction (which may start over on a
    /// conflict): the first answer is staged in the same session as the events it caused.
    /// </summary>
    public sealed class Attempt(string? recordId, string hash)
    {
        private IdempotencyRecord? _stored;
        private string? _body;
        private int _status;

        /// <summary>Read in the writer's transaction: a concurrent first use of the key makes this one retry and replay it.</summary>
        public async Task<bool> AlreadyAnsweredAsync(IDocumentSession session, CancellationToken ct)
        {
            _stored = recordId is null ? null : await session.LoadAsync<IdempotencyRecord>(recordId, ct);
            _body = null;
            return _stored is not null;
        }

        /// <param name="ownerId">The member whose erasure deletes the stored answer (<see cref="Guid.Empty"/> when it names nobody).</param>
        public void Answer(IDocumentSession session, object answer, Guid ownerId, int status = StatusCodes.Status200OK)
        {
            _body = JsonSerializer.Serialize(answer, JsonSerializerOptions.Web);
            _status = status;
            if (recordId is not null)
            {
                session.Insert(new IdempotencyRecord(recordId, hash, status, _body, DateTimeOffset.UtcNow, ownerId));
            }
        }

        /// <summary>The replayed first answer, this one, or the refusal (<paramref name="refusal"/> when nothing was answered).</summary>
        public IResult Result(Refusal refusal)
        {
            if (_stored is not null)
            {
                return _stored.RequestHash == hash ? Replay(_stored) : CompatResults.Problem(KeyReused);
            }

            return _body is null ? CompatResults.Problem(refusal) : Results.Text(_body, "application/json; charset=utf-8", Encoding.UTF8, _status);
        }
    }
}
