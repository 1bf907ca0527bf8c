using System.Security.Cryptography;
using System.Text;
using Fidpass.Loyalty.Crediting;

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
}
