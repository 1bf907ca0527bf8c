using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Programs;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.Loyalty.Members;

/// <summary>
/// The v1 lookup for a till: the member of a scanned card, the rewards the balance can take now, the
/// next one out of reach and the points missing, and the next expiry. Nothing is written. The
/// historical <c>/integration/lookup</c> keeps its body (spec section 1).
/// </summary>
public static class LookupApi
{
    public static IEndpointRouteBuilder MapLookupApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/merchants/{slug}/lookup", LookupAsync)
            .WithTags("Intégration v1")
            .WithSummary("Afficher un client (solde, récompenses disponibles, prochaine récompense) sans créditer");
        return app;
    }

    private static async Task<IResult> LookupAsync(string slug, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (Access.V1Any(request, slug, Scopes.Lookup, Scopes.Scan, out var identity) is { } denied)
        {
            return denied;
        }

        var (member, refusal) = await FindAsync(request, session, identity.MerchantId, ct);
        if (member is null)
        {
            return CompatResults.Problem(refusal!);
        }

        var (available, next, missing) = (await RewardsApi.LoadAsync(session, identity.MerchantId, ct)).Reach(member.Points);
        return Results.Json(new
        {
            member = MembersApi.Render(member),
            nextExpiry = Expiry.Expire.Render(await Expiry.Expire.NextAsync(session, member, ct)),
            rewards = available.Select(RewardsApi.Render),
            nextReward = next is null ? null : new { id = next.Id, name = next.Name, points = next.Points, missingPoints = missing },
        });
    }

    /// <summary>The member of <c>?barcode=</c> (what the scanner read), or why none: both lookups, compat and v1.</summary>
    public static async Task<(Member? Member, Refusal? Refusal)> FindAsync(HttpRequest request, IQuerySession session, Guid merchantId, CancellationToken ct)
    {
        var values = request.Query["barcode"];
        if (values.Count != 1 || string.IsNullOrWhiteSpace(values[0]))
        {
            return (null, new Refusal(400, "BARCODE_MISSING", values.Count > 1
                ? "Un seul code-barres (barcode) est attendu."
                : "Le code-barres (barcode) est obligatoire."));
        }

        var member = MemberBarcode.Normalise(values[0]) is { } id ? await session.LoadAsync<Member>(id, ct) : null;
        return member is null || member.Erased || member.MerchantId != merchantId ? (null, CompatResults.MemberNotFound) : (member, null);
    }
}
