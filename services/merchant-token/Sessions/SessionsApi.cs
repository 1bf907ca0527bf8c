using Fidpass.MerchantToken.Credentials;
using Fidpass.MerchantToken.IntegrationKeys;
using Fidpass.MerchantToken.Merchants;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.MerchantToken.Sessions;

// Events of a session's own stream (stream id = session id).
public sealed record SessionOpened(Guid SessionId, Guid MerchantId, string SessionHash, DateTimeOffset ExpiresAt, DateTimeOffset At);

public sealed record SessionEnded(Guid SessionId, Guid MerchantId, DateTimeOffset At);

public sealed record OpenSessionRequest(string? Token);

public sealed record MerchantView(Guid Id, string Slug, string Name, string Email);

public sealed record OpenedSession(string Session, DateTimeOffset ExpiresAt, MerchantView Merchant);

public static class SessionsApi
{
    /// <summary>Set by the gateway next to the <c>X-Fidpass-*</c> identity headers: which credential authenticated the call.</summary>
    public const string CredentialIdHeader = "X-Fidpass-Credential-Id";

    public static TimeSpan Lifetime(IConfiguration configuration) =>
        TimeSpan.FromHours(double.TryParse(configuration["Sessions:LifetimeHours"], System.Globalization.CultureInfo.InvariantCulture, out var hours) && hours > 0 ? hours : 168);

    public static RouteGroupBuilder MapSessionsApi(this RouteGroupBuilder v1)
    {
        var sessions = v1.MapGroup("/sessions").WithTags("Sessions web");
        sessions.MapPost("/", Open)
            .WithName("OpenSession")
            .WithSummary("Ouvrir une session web")
            .WithDescription("Échange le jeton du lien de connexion (`fpd_…`) contre une session `fps_…` à durée limitée, que l'espace web garde dans un cookie `HttpOnly`.")
            .Accepts<OpenSessionRequest>("application/json")
            .Produces<OpenedSession>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        sessions.MapDelete("/current", End)
            .WithName("EndSession")
            .WithSummary("Fermer la session en cours")
            .WithDescription("Déconnecte la session qui fait l'appel ; elle cesse de fonctionner en quelques secondes sur toutes les passerelles.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        return v1;
    }

    private static async Task<IResult> Open(HttpRequest request, IDocumentSession session, IConfiguration configuration, TimeProvider clock, CancellationToken ct)
    {
        var body = await Http.ReadBodyAsync<OpenSessionRequest>(request, ct);
        var token = body.Token?.Trim();
        var credential = Secrets.LooksLike(token, Secrets.DashboardTokenPrefix)
            ? await session.LoadAsync<Credential>(Secrets.Hash(token!), ct)
            : null;
        var merchant = credential is { Kind: GatewayIdentity.DashboardToken } ? await session.LoadAsync<Merchant>(credential.MerchantId, ct) : null;
        if (merchant is null)
        {
            throw new Rejected(StatusCodes.Status401Unauthorized, "INVALID_TOKEN", "Ce lien de connexion n'est pas (ou plus) valide. Demandez un nouveau lien.");
        }

        var now = clock.GetUtcNow();
        var secret = Secrets.New(Secrets.SessionPrefix);
        var opened = new SessionOpened(Guid.CreateVersion7(), merchant.Id, Secrets.Hash(secret), now + Lifetime(configuration), now);
        session.Events.StartStream(opened.SessionId, opened);
        session.Store(new Credential(opened.SessionHash, opened.SessionId, merchant.Id, merchant.Slug, GatewayIdentity.Session, [], opened.ExpiresAt));
        await IntegrationKeysApi.SaveAsync(session, ct);
        return TypedResults.Created((string?)null, new OpenedSession(secret, opened.ExpiresAt, new MerchantView(merchant.Id, merchant.Slug, merchant.Name, merchant.Email)));
    }

    private static async Task<IResult> End(HttpRequest request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var identity = GatewayIdentity.From(request);
        if (identity is not { CredentialKind: GatewayIdentity.Session } || !Guid.TryParse(request.Headers[CredentialIdHeader].ToString(), out var sessionId))
        {
            throw new Rejected(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", "Aucune session web en cours.");
        }

        session.Events.Append(sessionId, new SessionEnded(sessionId, identity.MerchantId, clock.GetUtcNow()));
        session.DeleteWhere<Credential>(c => c.CredentialId == sessionId);
        await IntegrationKeysApi.SaveAsync(session, ct);
        return TypedResults.NoContent();
    }
}
