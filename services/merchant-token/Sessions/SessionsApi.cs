using Fidpass.MerchantToken.Credentials;
using Fidpass.MerchantToken.IntegrationKeys;
using Fidpass.MerchantToken.Merchants;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.MerchantToken.Sessions;

// Events of a session's own stream (stream id = session id). OpenedWith: the dashboard token the session was opened with.
public sealed record SessionOpened(Guid SessionId, Guid MerchantId, string SessionHash, DateTimeOffset ExpiresAt, DateTimeOffset At, Guid? OpenedWith = null);

public sealed record SessionEnded(Guid SessionId, Guid MerchantId, DateTimeOffset At);

public sealed record OpenSessionRequest(string? Token);

public sealed record MerchantView(Guid Id, string Slug, string Name, string Email);

public sealed record OpenedSession(string Session, DateTimeOffset ExpiresAt, MerchantView Merchant);

public sealed record SessionView(Guid Id, DateTimeOffset? OpenedAt, DateTimeOffset? ExpiresAt, bool Current);

public sealed record EndedSessions(int Ended);

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
            .WithDescription("Échange le jeton du lien de connexion (`fpd_…`) contre une session `fps_…` à durée limitée, que l'espace web garde dans un cookie `HttpOnly`. "
                + "La session vit au plus aussi longtemps que ce jeton : le régénérer ferme toutes les sessions ouvertes avec l'ancien.")
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

        var merchantSessions = v1.MapGroup("/merchants/{slug}/sessions").WithTags("Sessions web");
        merchantSessions.MapGet("/", List)
            .WithName("ListSessions")
            .WithSummary("Lister les sessions web ouvertes")
            .WithDescription("Date d'ouverture et d'expiration de chaque session web ouverte du commerce ; `current` marque celle qui fait l'appel. "
                + "Réservé au commerçant (jeton du tableau de bord ou session).")
            .Produces<IReadOnlyList<SessionView>>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        merchantSessions.MapDelete("/", EndAll)
            .WithName("EndAllSessions")
            .WithSummary("Se déconnecter partout")
            .WithDescription("Ferme toutes les sessions web du commerce, y compris celle qui fait l'appel ; elles cessent de fonctionner en quelques secondes "
                + "sur toutes les passerelles. Le lien de connexion reste valable. Réservé au commerçant (jeton du tableau de bord ou session).")
            .Produces<EndedSessions>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return v1;
    }

    /// <summary>
    /// Ends the merchant's live sessions that <paramref name="ends"/> selects, in the caller's unit of work: each one gets
    /// <see cref="SessionEnded"/> (relayed as <c>CredentialRevoked</c>, so every gateway replica drops it) and loses its credential.
    /// </summary>
    public static async Task<int> EndSessionsAsync(IDocumentSession session, Guid merchantId, Func<Credential, bool> ends, DateTimeOffset now, CancellationToken ct)
    {
        var live = await session.Query<Credential>().Where(c => c.MerchantId == merchantId && c.Kind == GatewayIdentity.Session).ToListAsync(ct);
        var ended = 0;
        foreach (var credential in live.Where(ends))
        {
            session.Events.Append(credential.CredentialId, new SessionEnded(credential.CredentialId, merchantId, now));
            session.Delete(credential);
            ended++;
        }

        return ended;
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
        var opened = new SessionOpened(Guid.CreateVersion7(), merchant.Id, Secrets.Hash(secret), now + Lifetime(configuration), now, credential!.CredentialId);
        session.Events.StartStream(opened.SessionId, opened);
        session.Store(new Credential(opened.SessionHash, opened.SessionId, merchant.Id, merchant.Slug, GatewayIdentity.Session, [], opened.ExpiresAt, now, opened.OpenedWith));
        await IntegrationKeysApi.SaveAsync(session, ct);
        return TypedResults.Created((string?)null, new OpenedSession(secret, opened.ExpiresAt, new MerchantView(merchant.Id, merchant.Slug, merchant.Name, merchant.Email)));
    }

    private static async Task<IResult> End(HttpRequest request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var identity = GatewayIdentity.From(request);
        if (identity is not { CredentialKind: GatewayIdentity.Session } || CallerCredentialId(request) is not { } sessionId)
        {
            throw new Rejected(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", "Aucune session web en cours.");
        }

        session.Events.Append(sessionId, new SessionEnded(sessionId, identity.MerchantId, clock.GetUtcNow()));
        session.DeleteWhere<Credential>(c => c.CredentialId == sessionId);
        await IntegrationKeysApi.SaveAsync(session, ct);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> List(string slug, HttpRequest request, IQuerySession session, TimeProvider clock, CancellationToken ct)
    {
        var identity = Http.RequireOwner(request, slug);
        var now = clock.GetUtcNow();
        var caller = CallerCredentialId(request);
        var live = await session.Query<Credential>().Where(c => c.MerchantId == identity.MerchantId && c.Kind == GatewayIdentity.Session).ToListAsync(ct);
        return TypedResults.Ok(live.Where(c => c.IsLiveAt(now))
            .OrderByDescending(c => c.CreatedAt)
            .Select(c => new SessionView(c.CredentialId, c.CreatedAt, c.ExpiresAt, c.CredentialId == caller))
            .ToList());
    }

    private static async Task<IResult> EndAll(string slug, HttpRequest request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var identity = Http.RequireOwner(request, slug);
        var ended = await EndSessionsAsync(session, identity.MerchantId, _ => true, clock.GetUtcNow(), ct);
        await IntegrationKeysApi.SaveAsync(session, ct);
        return TypedResults.Ok(new EndedSessions(ended));
    }

    private static Guid? CallerCredentialId(HttpRequest request) =>
        Guid.TryParse(request.Headers[CredentialIdHeader].ToString(), out var id) ? id : null;
}
