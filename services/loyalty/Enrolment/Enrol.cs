using System.Net.Mail;
using System.Text.Json;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.ServiceDefaults;
using Marten;
using MassTransit;
using MemberCardLinkRequested = Fidpass.Contracts.Loyalty.MemberCardLinkRequested;

namespace Fidpass.Loyalty.Enrolment;

public sealed record EnrolMember(Guid MemberId, Guid MerchantId, string Name, string Email);

/// <summary>
/// Enrolment: public (the merchant's QR poster) and bulk import. One member per (merchant, e-mail):
/// the unique index decides under concurrency. A second enrolment answers the existing member to the
/// merchant's own credentials (a kiosk); to anyone else it only says the card was sent by e-mail.
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
            var code = new ShortCodeAssigned(command.MemberId, command.MerchantId, ShortCodes.New(), enrolled.At);
            session.Events.StartStream<Member>(command.MemberId, enrolled, code);
            session.CarryTrace();
            try
            {
                await session.SaveChangesAsync(ct);
                return (Member.Create(enrolled).Apply(code), false);
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && attempt < 5)
            {
                // Someone enrolled the same e-mail at the same moment (the next pass finds it), or the short code was taken (the next pass draws another).
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

    private static async Task<IResult> EnrolPublicAsync(string slug, HttpRequest request, IDocumentStore store, IPublishEndpoint publisher, CancellationToken ct)
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
        if (!reused)
        {
            return Results.Json(new { memberId = member.Id, member = shown }, statusCode: StatusCodes.Status201Created);
        }

        if (identity.IsAuthenticated && identity.Allows(Scopes.Members))
        {
            return Results.Json(new { memberId = member.Id, member = shown, reused = true });
        }

        // Knowing someone's e-mail must never give their card (a bearer credential for their points):
        // the link goes to that address instead. Nothing is stored here, so this is no dual write.
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(PublishTimeout);
            await publisher.Publish(new MemberCardLinkRequested(Guid.CreateVersion7(), member.MerchantId, member.Id, command!.Email, DateTimeOffset.UtcNow), bounded.Token);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            return CompatResults.Error(StatusCodes.Status503ServiceUnavailable, "CARD_LINK_UNAVAILABLE",
                "Cette adresse e-mail est déjà inscrite, mais l'e-mail avec la carte n'a pas pu être envoyé. Réessayez dans un instant.");
        }

        return Results.Json(new { reused = true, cardSentByEmail = true });
    }

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

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

        var validated = rows.EnumerateArray().Select(row => (Row: row, Checked: Validate(identity.MerchantId, row))).ToList();
        var members = await EnrolManyAsync(store, identity.MerchantId, [.. validated.Where(v => v.Checked.Command is not null).Select(v => v.Checked.Command!)], ct);
        var answered = new HashSet<string>();
        var results = new List<object>();
        foreach (var (row, (command, refusal)) in validated)
        {
            if (refusal is not null)
            {
                var email = row.ValueKind == JsonValueKind.Object && row.TryGetProperty("email", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                results.Add(new { email, memberId = (Guid?)null, reused = false, error = refusal.Message, code = refusal.Code.ToLowerInvariant() });
                continue;
            }

            // A second row with the same e-mail gets the member of the first, as "reused".
            var (member, existed) = members[command!.Email];
            results.Add(new { email = member.Email, memberId = (Guid?)member.Id, reused = existed || !answered.Add(command.Email) });
        }

        return Results.Json(results);
    }

    /// <summary>
    /// A whole import in one query and one transaction: the e-mails already enrolled are found at
    /// once and the others enrolled together (one at a time took ~10 ms a member, so a 1,000-row file
    /// outlasted the gateway's timeout on a busy machine). If someone enrolls one of these e-mails
    /// meanwhile, the unique index refuses the batch and the rows go one by one, each finding or
    /// creating its member. <c>Existed</c>: enrolled before this import.
    /// </summary>
    public static async Task<Dictionary<string, (Member Member, bool Existed)>> EnrolManyAsync(
        IDocumentStore store, Guid merchantId, IReadOnlyList<EnrolMember> commands, CancellationToken ct)
    {
        var emails = commands.Select(c => c.Email).Distinct().ToList();
        var members = new Dictionary<string, (Member Member, bool Existed)>();
        if (emails.Count == 0)
        {
            return members;
        }

        await using (var session = store.LightweightSession())
        {
            foreach (var member in await session.Query<Member>().Where(m => m.MerchantId == merchantId && emails.Contains(m.Email!)).ToListAsync(ct))
            {
                members[member.Email!] = (member, true);
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var command in commands.Where(c => !members.ContainsKey(c.Email)).DistinctBy(c => c.Email))
            {
                var enrolled = Decide(command, now);
                var code = new ShortCodeAssigned(command.MemberId, command.MerchantId, ShortCodes.New(), now);
                session.Events.StartStream<Member>(command.MemberId, enrolled, code);
                members[command.Email] = (Member.Create(enrolled).Apply(code), false);
            }

            session.CarryTrace();
            try
            {
                await session.SaveChangesAsync(ct);
                return members;
            }
            catch (Exception e) when (Conflicts.IsConflict(e))
            {
                members.Clear();
            }
        }

        foreach (var command in commands.DistinctBy(c => c.Email))
        {
            var (member, reused) = await EnrolAsync(store, command, ct);
            members[command.Email] = (member, reused);
        }

        return members;
    }
}
