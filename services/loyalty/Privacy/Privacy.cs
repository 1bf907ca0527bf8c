using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Marten;

namespace Fidpass.Loyalty.Privacy;

/// <summary>
/// GDPR: erasure anonymises the person (name, e-mail, in the read model and in the stored events)
/// and keeps the ledger's numbers, which the merchant must keep for its accounts; export gives the
/// member everything held about them.
/// </summary>
public static class Privacy
{
    public static (MemberErased? Event, Refusal? Refusal) DecideErase(Member member, DateTimeOffset now) =>
        member.Erased ? (null, null) : (new MemberErased(member.Id, member.MerchantId, now), null);

    /// <summary>Applied to stored events when a stream is masked.</summary>
    public static void ConfigureMasking(StoreOptions options) =>
        options.Events.AddMaskingRuleForProtectedInformation<MemberEnrolled>(e => e with { Name = Member.ErasedName, Email = "" });

    public static IEndpointRouteBuilder MapPrivacyApi(this IEndpointRouteBuilder app)
    {
        app.MapDelete("/api/v1/merchants/{slug}/members/{memberId:guid}", EraseAsync)
            .WithTags("Membres").WithSummary("Effacer un membre (RGPD) : identité anonymisée, historique des points conservé");
        app.MapGet("/api/v1/merchants/{slug}/members/{memberId:guid}/export", ExportAsync)
            .WithTags("Membres").WithSummary("Exporter les données d'un membre (RGPD, JSON)");
        return app;
    }

    private static async Task<IResult> EraseAsync(string slug, Guid memberId, HttpRequest request, IDocumentStore store, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Members, out var identity) is { } denied)
        {
            return denied;
        }

        var (_, _, refusal) = await MemberWriter.ExecuteAsync(store, identity.MerchantId, memberId,
            m => DecideErase(m, DateTimeOffset.UtcNow), ct, allowErased: true);
        if (refusal is not null)
        {
            return CompatResults.Problem(refusal);
        }

        // Runs again on a repeated DELETE, so an interrupted erasure is finished by a retry.
        await store.Advanced.ApplyEventDataMasking(masking => masking.IncludeStream(memberId), ct);
        await using (var session = store.LightweightSession())
        {
            // Stored till answers name the member: a replay after erasure must not show them again.
            session.DeleteWhere<IdempotencyRecord>(r => r.MemberId == memberId);
            await session.SaveChangesAsync(ct);
        }

        return Results.NoContent();
    }

    private static async Task<IResult> ExportAsync(string slug, Guid memberId, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Members, out var identity) is { } denied)
        {
            return denied;
        }

        var member = await session.LoadAsync<Member>(memberId, ct);
        if (member is null || member.MerchantId != identity.MerchantId)
        {
            return CompatResults.Problem(MemberWriter.NotFound);
        }

        var history = await session.Events.FetchStreamAsync(memberId, token: ct);
        return Results.Json(new
        {
            exportedAt = DateTimeOffset.UtcNow,
            member = MembersApi.Render(member),
            history = history.Select(MembersApi.Render),
        });
    }
}
