using System.Net.Mail;
using System.Text.Json;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.Loyalty.Enrolment;

public sealed record EnrolMember(Guid MemberId, Guid MerchantId, string Name, string Email);

/// <summary>
/// Enrolment: public (the merchant's QR poster) and bulk import. One member per (merchant, e-mail):
/// the unique index decides under concurrency, and a second enrolment answers the existing member.
/// </summary>
public static class Enrol
{
    public const int MaxImportRows = 1000;

    public static (EnrolMember? Command, Refusal? Refusal) Validate(Guid merchantId, JsonElement row)
    {
        if (row.ValueKind != JsonValueKind.Object)
        {
            return (null, new Refusal(400, "INVALID_JSON", "Chaque membre est un objet {\"name\",\"email\"}."));
        }

        var name = row.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()!.Trim() : null;
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return (null, new Refusal(400, "INVALID_NAME", "Le nom est obligatoire (200 caractères au plus)."));
        }

        var email = row.TryGetProperty("email", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()!.Trim().ToLowerInvariant() : null;
        if (!IsEmail(email))
        {
            return (null, new Refusal(400, "INVALID_EMAIL", "L'adresse e-mail est obligatoire et doit être valide."));
        }

        return (new EnrolMember(Guid.NewGuid(), merchantId, name, email!), null);
    }

    public static bool IsEmail(string? email) =>
        !string.IsNullOrEmpty(email) && email.Length <= 254 && email.Count(c => c == '@') == 1 && !email.Any(char.IsWhiteSpace)
        && MailAddress.TryCreate(email, out var parsed) && parsed.Address == email && parsed.Host.Contains('.', StringComparison.Ordinal);

    public static MemberEnrolled Decide(EnrolMember command, DateTimeOffset now) =>
        new(command.MemberId, command.MerchantId, command.Name, command.Email, now);

    /// <summary>The member for this e-mail, created if needed; <c>Reused</c> tells which.</summary>
    public static async Task<(Member Member, bool Reused)> EnrolAsync(IDocumentStore store, EnrolMember command, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var existing = await session.Query<Member>()
                .FirstOrDefaultAsync(m => m.MerchantId == command.MerchantId && m.Email == command.Email, ct);
            if (existing is not null)
            {
                return (existing, true);
            }

            var enrolled = Decide(command, DateTimeOffset.UtcNow);
            session.Events.StartStream<Member>(command.MemberId, enrolled);
            session.CarryTrace();
            try
            {
                await session.SaveChangesAsync(ct);
                return (Member.Create(enrolled), false);
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && attempt < 5)
            {
                // Someone enrolled the same e-mail at the same moment: the next pass finds it.
                await Conflicts.BackOffAsync(attempt, ct);
            }
        }
    }

    public static IEndpointRouteBuilder MapEnrolmentApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/businesses/{slug}/members", EnrolPublicAsync)
            .WithTags("Inscription")
            .WithSummary("Inscription publique d'un client (nom, e-mail)");
        app.MapPost("/api/v1/merchants/{slug}/members/import", ImportAsync)
            .WithTags("Membres")
            .WithSummary("Importer jusqu'à 1 000 membres");
        return app;
    }

    private static async Task<IResult> EnrolPublicAsync(string slug, HttpRequest request, IDocumentStore store, CancellationToken ct)
    {
        if (Access.Public(request, slug, out var identity) is { } denied)
        {
            return denied;
        }

        var (body, _, bodyRefusal) = await CompatResults.ReadObjectAsync(request, ct);
        if (bodyRefusal is not null)
        {
            return CompatResults.From(bodyRefusal);
        }

        var (command, refusal) = Validate(identity.MerchantId, body);
        if (refusal is not null)
        {
            return CompatResults.From(refusal);
        }

        var (member, reused) = await EnrolAsync(store, command!, ct);
        var shown = new { id = member.Id, email = member.Email, name = member.Name, points = member.Points };
        return reused
            ? Results.Json(new { memberId = member.Id, member = shown, reused = true })
            : Results.Json(new { memberId = member.Id, member = shown }, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ImportAsync(string slug, HttpRequest request, IDocumentStore store, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Members, out var identity) is { } denied)
        {
            return denied;
        }

        using var reader = new StreamReader(request.Body);
        var raw = await reader.ReadToEndAsync(ct);
        JsonElement rows;
        try
        {
            using var document = JsonDocument.Parse(raw);
            rows = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return ApiProblems.Problem(400, "INVALID_JSON", "Le corps doit être un tableau JSON [{\"name\",\"email\"}, …].");
        }

        if (rows.ValueKind != JsonValueKind.Array)
        {
            return ApiProblems.Problem(400, "INVALID_JSON", "Le corps doit être un tableau JSON [{\"name\",\"email\"}, …].");
        }

        if (rows.GetArrayLength() > MaxImportRows)
        {
            return ApiProblems.Problem(400, "TOO_MANY_ROWS", $"Au plus {MaxImportRows} membres par appel.");
        }

        var results = new List<object>();
        foreach (var row in rows.EnumerateArray())
        {
            var (command, refusal) = Validate(identity.MerchantId, row);
            if (refusal is not null)
            {
                var email = row.ValueKind == JsonValueKind.Object && row.TryGetProperty("email", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                results.Add(new { email, memberId = (Guid?)null, reused = false, error = refusal.Message, code = refusal.Code });
                continue;
            }

            var (member, reused) = await EnrolAsync(store, command!, ct);
            results.Add(new { email = member.Email, memberId = (Guid?)member.Id, reused });
        }

        return Results.Json(results);
    }
}
