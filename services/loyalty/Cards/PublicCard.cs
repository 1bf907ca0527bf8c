using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.Loyalty.Cards;

/// <summary>The merchant's public name, kept from <c>MerchantRegistered</c> for the member's card page.</summary>
public sealed record MerchantProfile(Guid Id, string Slug, string Name);

/// <summary>
/// The member's own card page reads its live balance here, anonymously: the member UUID printed on
/// the card is the capability, as at the till. Read-only, and it tells no more than the card shows:
/// the merchant's name, the member's first name, the balance, when points expire next and the short code
/// the cashier can type (no e-mail, no history); a member enrolled before short codes gets one here.
/// A member of another merchant, an erased member or an unknown id are all the same 404.
/// </summary>
public static class PublicCard
{
    public static IEndpointRouteBuilder MapPublicCardApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/merchants/{slug}/cards/{memberId}", GetAsync).WithTags("Carte du membre")
            .WithSummary("Carte publique d'un membre (anonyme) : commerce, prénom, solde")
            .ProducesProblem(400).ProducesProblem(404);
        return app;
    }

    /// <summary>What the card shows of a person: the first word of the name they enrolled with.</summary>
    public static string FirstName(string name)
    {
        var trimmed = name.Trim();
        var space = trimmed.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? trimmed : trimmed[..space];
    }

    private static async Task<IResult> GetAsync(string slug, string memberId, HttpRequest request, IDocumentStore store, CancellationToken ct)
    {
        if (Access.Public(request, slug, out var identity) is not null)
        {
            return ApiProblems.Problem(404, "MEMBER_NOT_FOUND", "Carte inconnue chez ce commerçant.");
        }

        if (!Guid.TryParse(memberId, out var id))
        {
            return ApiProblems.Problem(400, "INVALID_MEMBER_ID", "L'identifiant de la carte est un UUID (celui du QR code).");
        }

        await using var session = store.QuerySession();
        var batch = session.CreateBatchQuery();
        var memberLoad = batch.Load<Member>(id);
        var profileLoad = batch.Load<MerchantProfile>(identity.MerchantId);
        await batch.Execute(ct);
        var member = await memberLoad;
        if (member is null || member.MerchantId != identity.MerchantId || member.Erased)
        {
            return ApiProblems.Problem(404, "MEMBER_NOT_FOUND", "Carte inconnue chez ce commerçant.");
        }

        var profile = await profileLoad;
        var nextExpiry = Expiry.Expire.Render(await Expiry.Expire.NextAsync(session, member, ct));
        var shortCode = ShortCodes.Display(await ShortCodes.EnsureAsync(store, member, ct));
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return Results.Json(new
        {
            merchant = new { slug = profile?.Slug ?? identity.Slug, name = profile?.Name },
            member = new { id = member.Id, firstName = FirstName(member.Name), points = member.Points, nextExpiry, shortCode },
        });
    }
}
