using System.Net.Mail;
using Fidpass.MerchantToken.Credentials;
using Fidpass.MerchantToken.Mail;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.MerchantToken.Merchants;

public sealed record RegisterMerchantRequest(string? Name, string? Email, string? Slug);

public sealed record RegisteredMerchant(Guid Id, string Slug, string Name, string Email, string DashboardToken, string DashboardUrl);

public sealed record SignedUpMerchant(Guid Id, string Slug, string Name, string Email, string Message);

/// <summary>Validated input of a registration.</summary>
public sealed record RegisterMerchant(string Name, string Email, string? Slug);

public static class MerchantRegistration
{
    public const int MaxNameLength = 100;
    public const string ByOperator = "operator";
    public const string BySignUp = "signup";

    /// <summary>Normalises and checks the request (trimmed name, lower-case e-mail, slug shape).</summary>
    public static RegisterMerchant Validate(RegisterMerchantRequest request)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_NAME", $"Le nom du commerce est obligatoire ({MaxNameLength} caractères au plus).");
        }

        var email = request.Email?.Trim().ToLowerInvariant();
        if (!IsEmail(email))
        {
            throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_EMAIL", "L'adresse e-mail est obligatoire et doit être valide.");
        }

        var slug = string.IsNullOrWhiteSpace(request.Slug) ? null : request.Slug.Trim();
        if (slug is not null && !Slugs.IsValid(slug))
        {
            throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_SLUG",
                $"L'identifiant public (slug) ne peut contenir que des lettres minuscules a-z, des chiffres et des tirets, entre 2 et {Slugs.MaxLength} caractères.");
        }

        return new RegisterMerchant(name, email!, slug);
    }

    public static bool IsEmail(string? email)
    {
        if (string.IsNullOrEmpty(email) || email.Length > 254 || email.Any(char.IsWhiteSpace) || email.Count(c => c == '@') != 1)
        {
            return false;
        }

        var at = email.IndexOf('@', StringComparison.Ordinal);
        var domain = email[(at + 1)..];
        return at > 0 && domain.Contains('.', StringComparison.Ordinal) && !domain.StartsWith('.') && !domain.EndsWith('.')
            && MailAddress.TryCreate(email, out _);
    }

    /// <summary>The merchant's first event. <paramref name="slug"/> is free (checked by the caller; the unique index has the last word).</summary>
    public static MerchantCreated Decide(RegisterMerchant command, string slug, Guid merchantId, Guid tokenId, string tokenHash, string origin, DateTimeOffset now) =>
        new(merchantId, slug, command.Name, command.Email, tokenId, tokenHash, origin, now);

    public static string DashboardUrl(IConfiguration configuration, string token) =>
        $"{WebUrl(configuration)}/?token={Uri.EscapeDataString(token)}";

    /// <summary>The web space's public address (<c>Fidpass:WebUrl</c>), without a trailing slash.</summary>
    public static string WebUrl(IConfiguration configuration) => (configuration["Fidpass:WebUrl"] ?? "http://localhost:5081").TrimEnd('/');

    /// <summary>Creates the merchant and its dashboard token; returns the merchant and the token (to show or mail once).</summary>
    public static async Task<(Merchant Merchant, string Token)> RegisterAsync(
        IDocumentSession session, RegisterMerchantRequest request, string origin, TimeProvider clock, CancellationToken cancellationToken)
    {
        var command = Validate(request);
        var slug = await FreeSlugAsync(session, command, cancellationToken);
        var token = Secrets.New(Secrets.DashboardTokenPrefix);
        var created = Decide(command, slug, Guid.CreateVersion7(), Guid.CreateVersion7(), Secrets.Hash(token), origin, clock.GetUtcNow());

        session.Events.StartStream<Merchant>(created.MerchantId, created);
        session.Store(new Credential(created.DashboardTokenHash, created.DashboardTokenId, created.MerchantId, slug, GatewayIdentity.DashboardToken, [], null));
        session.CarryTrace();
        try
        {
            await session.SaveChangesAsync(cancellationToken);
        }
        catch (Exception ex) when (Http.IsUniqueViolation(ex))
        {
            // Two registrations raced for the same slug: the unique index on Merchant.Slug decided.
            throw SlugTaken(slug);
        }

        return (Merchant.Create(created), token);
    }

    private static async Task<string> FreeSlugAsync(IDocumentSession session, RegisterMerchant command, CancellationToken cancellationToken)
    {
        if (command.Slug is { } wanted)
        {
            if (await session.Query<Merchant>().AnyAsync(m => m.Slug == wanted, cancellationToken))
            {
                throw SlugTaken(wanted);
            }

            return wanted;
        }

        var candidates = Slugs.Candidates(Slugs.FromName(command.Name), 20).ToList();
        var taken = await session.Query<Merchant>().Where(m => candidates.Contains(m.Slug)).Select(m => m.Slug).ToListAsync(cancellationToken);
        return candidates.FirstOrDefault(c => !taken.Contains(c)) ?? $"{candidates[0][..Math.Min(candidates[0].Length, 41)]}-{Guid.NewGuid():N}"[..Slugs.MaxLength].TrimEnd('-');
    }

    private static Rejected SlugTaken(string slug) =>
        new(StatusCodes.Status409Conflict, "SLUG_TAKEN", $"L'identifiant public « {slug} » est déjà utilisé par un autre commerce.");
}

public static class RegisterMerchantApi
{
    public const string AdminKeySetting = "FIDPASS_ADMIN_KEY";

    public static RouteGroupBuilder MapRegisterMerchantApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/admin/merchants", CreateByOperator)
            .WithName("CreateMerchantByOperator")
            .WithTags("Opérateur")
            .WithSummary("Créer un commerce (opérateur)")
            .WithDescription("Réservé à l'opérateur : `Authorization: Bearer <clé opérateur>` (configuration `FIDPASS_ADMIN_KEY`). "
                + "Sans clé configurée, la route n'existe pas (404). Répond avec le jeton du tableau de bord et le lien de connexion, affichés une seule fois.")
            .Accepts<RegisterMerchantRequest>("application/json")
            .Produces<RegisteredMerchant>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        v1.MapPost("/signup", SignUp)
            .WithName("SignUp")
            .WithTags("Commerces")
            .WithSummary("Créer son espace commerçant")
            .WithDescription("Inscription libre : crée le commerce et envoie le lien de connexion (`…/?token=…`) à l'adresse e-mail donnée. "
                + "Le jeton n'est jamais renvoyé dans la réponse. Le slug est déduit du nom s'il est absent.")
            .Accepts<RegisterMerchantRequest>("application/json")
            .Produces<SignedUpMerchant>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return v1;
    }

    private static async Task<IResult> CreateByOperator(
        HttpRequest request, IConfiguration configuration, IDocumentSession session, TimeProvider clock, CancellationToken cancellationToken)
    {
        var expected = configuration[AdminKeySetting];
        if (string.IsNullOrEmpty(expected))
        {
            return ApiProblems.Problem(StatusCodes.Status404NotFound, "NOT_FOUND", "Cette route n'est pas activée.");
        }

        var header = request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        if (!Secrets.FixedTimeEquals(presented, expected))
        {
            return ApiProblems.Problem(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", "Clé opérateur invalide ou manquante.");
        }

        var body = await Http.ReadBodyAsync<RegisterMerchantRequest>(request, cancellationToken);
        var (merchant, token) = await MerchantRegistration.RegisterAsync(session, body, MerchantRegistration.ByOperator, clock, cancellationToken);
        return TypedResults.Created(
            $"/api/v1/merchants/{merchant.Slug}",
            new RegisteredMerchant(merchant.Id, merchant.Slug, merchant.Name, merchant.Email, token, MerchantRegistration.DashboardUrl(configuration, token)));
    }

    private static async Task<IResult> SignUp(
        HttpRequest request, IConfiguration configuration, IDocumentSession session, IMailSender mail, TimeProvider clock,
        ILogger<SignedUpMerchant> logger, CancellationToken cancellationToken)
    {
        var body = await Http.ReadBodyAsync<RegisterMerchantRequest>(request, cancellationToken);
        var (merchant, token) = await MerchantRegistration.RegisterAsync(session, body, MerchantRegistration.BySignUp, clock, cancellationToken);
        var message = $"Un lien de connexion a été envoyé à {merchant.Email}.";
        try
        {
            await mail.SendAsync(SignInMail.For(merchant, MerchantRegistration.DashboardUrl(configuration, token)), cancellationToken);
        }
        catch (SmtpException ex)
        {
            // The account exists; an operator can regenerate and resend the link. Never log the mail: it holds the token.
            logger.LogWarning("Sign-in mail for merchant {MerchantId} not sent: {SmtpStatus}", merchant.Id, ex.StatusCode);
            message = "Votre espace est créé, mais l'e-mail de connexion n'a pas pu être envoyé. Contactez le support Fidpass.";
        }

        return TypedResults.Created(
            $"/api/v1/merchants/{merchant.Slug}",
            new SignedUpMerchant(merchant.Id, merchant.Slug, merchant.Name, merchant.Email, message));
    }
}
