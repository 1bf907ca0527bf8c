using Fidpass.Loyalty.Http;
using Fidpass.ServiceDefaults;
using JasperFx.Events;
using Marten;

namespace Fidpass.Loyalty.Members;

/// <summary>Member management for the merchant's web space: search, detail with the full history.</summary>
public static class MembersApi
{
    public const int MaxPageSize = 100;

    public static IEndpointRouteBuilder MapMembersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/merchants/{slug}/members").WithTags("Membres");
        group.MapGet("", SearchAsync).WithSummary("Rechercher des membres par nom ou e-mail (paginé)");
        group.MapGet("/{memberId:guid}", DetailAsync).WithSummary("Détail d'un membre et historique complet");
        return app;
    }

    public static object Render(Member m) => new
    {
        id = m.Id,
        name = m.Name,
        email = m.Email,
        points = m.Points,
        lastVisitAt = m.LastVisitAt,
        enrolledAt = m.EnrolledAt,
        shortCode = m.ShortCode is { } code ? ShortCodes.Display(code) : null,
    };

    public static object Render(IEvent e) => new
    {
        type = e.EventTypeName,
        version = e.Version,
        at = e.Timestamp,
        data = e.Data,
    };

    private static async Task<IResult> SearchAsync(string slug, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Members, out var identity) is { } denied)
        {
            return denied;
        }

        var search = request.Query["search"];
        var page = request.Query["page"];
        var size = request.Query["pageSize"];
        if (search.Count > 1 || page.Count > 1 || size.Count > 1)
        {
            return ApiProblems.Problem(400, "INVALID_QUERY", "Chaque paramètre de recherche est attendu une seule fois.");
        }

        var pageNumber = 1;
        var pageSize = 20;
        if ((page.Count == 1 && (!int.TryParse(page[0], out pageNumber) || pageNumber < 1 || pageNumber > 100_000))
            || (size.Count == 1 && (!int.TryParse(size[0], out pageSize) || pageSize < 1 || pageSize > MaxPageSize)))
        {
            return ApiProblems.Problem(400, "INVALID_QUERY", $"page ≥ 1 et pageSize de 1 à {MaxPageSize}.");
        }

        var term = search.Count == 1 ? search[0]!.Trim().ToLowerInvariant() : "";
        var query = session.Query<Member>().Where(m => m.MerchantId == identity.MerchantId && !m.Erased);
        if (term.Length > 0)
        {
            query = query.Where(m => m.Email!.Contains(term) || m.Name.Contains(term, StringComparison.OrdinalIgnoreCase));
        }

        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(m => m.Name).Skip((pageNumber - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return Results.Json(new { items = items.Select(Render), page = pageNumber, pageSize, total });
    }

    private static async Task<IResult> DetailAsync(string slug, Guid memberId, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Members, out var identity) is { } denied)
        {
            return denied;
        }

        var member = await session.LoadAsync<Member>(memberId, ct);
        if (member is null || member.MerchantId != identity.MerchantId || member.Erased)
        {
            return CompatResults.Problem(MemberWriter.NotFound);
        }

        var history = await session.Events.FetchStreamAsync(memberId, token: ct);
        var nextExpiry = Expiry.Expire.Render(await Expiry.Expire.NextAsync(session, member, ct));
        // The short code is the card's, not something that happened to the member's points.
        return Results.Json(new { member = Render(member), nextExpiry, history = history.Where(e => e.Data is not ShortCodeAssigned).Select(Render) });
    }
}
