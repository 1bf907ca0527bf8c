using Fidpass.MerchantToken.IntegrationKeys;
using Fidpass.MerchantToken.Merchants;
using Fidpass.MerchantToken.Sessions;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.MerchantToken.Credentials;

public sealed record RegeneratedDashboardToken(string DashboardToken, string DashboardUrl);

public static class DashboardTokenApi
{
    public static DashboardTokenRegenerated Decide(Merchant merchant, Guid newTokenId, string newTokenHash, DateTimeOffset now) =>
        new(merchant.Id, merchant.DashboardTokenId, newTokenId, newTokenHash, now);

    public static RouteGroupBuilder MapDashboardTokenApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/merchants/{slug}/dashboard-token", Regenerate)
            .WithName("RegenerateDashboardToken")
            .WithTags("Jeton du tableau de bord")
            .WithSummary("Régénérer le jeton du tableau de bord")
            .WithDescription("Crée un nouveau jeton `fpd_…` (et donc un nouveau lien de connexion) ; l'ancien cesse de fonctionner en quelques secondes, "
                + "y compris pour les caisses qui l'utilisaient, et toutes les sessions web ouvertes avec l'ancien sont fermées sur toutes les passerelles. "
                + "Réservé au commerçant (jeton du tableau de bord ou session).")
            .Produces<RegeneratedDashboardToken>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return v1;
    }

    private static async Task<IResult> Regenerate(
        string slug, HttpRequest request, IDocumentSession session, IConfiguration configuration, TimeProvider clock, CancellationToken ct)
    {
        var identity = Http.RequireOwner(request, slug);
        var stream = await session.Events.FetchForWriting<Merchant>(identity.MerchantId, ct);
        var merchant = stream.Aggregate ?? throw IntegrationKeysApi.Unknown();
        var token = Secrets.New(Secrets.DashboardTokenPrefix);
        var regenerated = Decide(merchant, Guid.CreateVersion7(), Secrets.Hash(token), clock.GetUtcNow());

        stream.AppendOne(regenerated);
        session.DeleteWhere<Credential>(c => c.CredentialId == regenerated.RevokedTokenId);

        // A session lives only as long as the token that opened it (sessions from before this rule know no token: ended too).
        await SessionsApi.EndSessionsAsync(session, merchant.Id, s => s.OpenedWith is null || s.OpenedWith == regenerated.RevokedTokenId, regenerated.At, ct);
        session.Store(new Credential(regenerated.NewTokenHash, regenerated.NewTokenId, merchant.Id, merchant.Slug, GatewayIdentity.DashboardToken, [], null));
        await IntegrationKeysApi.SaveAsync(session, ct);
        return TypedResults.Ok(new RegeneratedDashboardToken(token, MerchantRegistration.DashboardUrl(configuration, token)));
    }
}
