using System.Security.Cryptography;
using System.Text;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.StripeTerminal.Readers;

public sealed record SetStripeAccount(string? AccountId);

/// <summary>Where the merchant's card money went from then on, who said so (credential kind and id, never a secret) and when.</summary>
public sealed record StripeAccountChanged(Guid MerchantId, string? PreviousAccountId, string? AccountId, string CredentialKind, Guid? CredentialId, DateTimeOffset At);

public sealed record StripeAccountView(string? AccountId, IReadOnlyList<StripeAccountChanged> History);

/// <summary>
/// The Stripe account card payments are made on (the platform's, or a connected <c>acct_…</c>).
/// Changing it decides where the money goes, so it takes the merchant's own credentials (dashboard
/// token or web session), never an integration key, whatever its scopes; each change is an event of
/// the merchant's account history stream.
/// </summary>
public static class StripeAccountApi
{
    public const string CredentialIdHeader = "X-Fidpass-Credential-Id";

    public static RouteGroupBuilder MapStripeAccountApi(this RouteGroupBuilder group)
    {
        group.MapPut("/stripe-account", SetAsync)
            .WithSummary("Compte Stripe du commerce (plateforme ou compte connecté acct_…) : réservé au commerçant")
            .WithDescription("Décide où va l'argent des paiements par carte : seul le commerçant (jeton du tableau de bord ou session web) peut le changer, "
                + "jamais une clé d'intégration, même avec la permission `terminal`. Chaque changement est inscrit dans l'historique du commerce.")
            .Produces<StripeAccountView>().ProducesProblem(400).ProducesProblem(403);
        group.MapGet("/stripe-account", GetAsync)
            .WithSummary("Compte Stripe du commerce et historique de ses changements")
            .Produces<StripeAccountView>();
        return group;
    }

    /// <summary>The id of the merchant's account history stream (derived, so it never meets a payment's or a reader's stream).</summary>
    public static Guid HistoryStreamId(Guid merchantId) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes("stripe-account:" + merchantId.ToString("N")))[..16]);

    private static async Task<IResult> SetAsync(HttpContext http, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var merchant = http.Merchant();
        if (merchant.CredentialKind is not (GatewayIdentity.DashboardToken or GatewayIdentity.Session))
        {
            return ApiProblems.Problem(403, "owner_required",
                "Seul le commerçant (lien de connexion ou espace web) peut changer le compte Stripe qui reçoit l'argent des paiements ; une clé d'intégration ne le peut pas.");
        }

        var (body, invalid) = await JsonBody.ReadAsync<SetStripeAccount>(http.Request, ct);
        if (invalid is not null)
        {
            return invalid;
        }

        // It travels as the Stripe-Account header: acct_ and letters or digits only.
        if (body!.AccountId is { } account && (!account.StartsWith("acct_", StringComparison.Ordinal) || account.Length is < 6 or > 100
            || !account[5..].All(char.IsAsciiLetterOrDigit)))
        {
            return ApiProblems.Problem(400, "invalid_stripe_account", "Un compte connecté Stripe commence par « acct_ ».");
        }

        var previous = await session.StripeAccountAsync(merchant.MerchantId, ct);
        var changed = new StripeAccountChanged(merchant.MerchantId, previous, body.AccountId, merchant.CredentialKind,
            Guid.TryParse(http.Request.Headers[CredentialIdHeader].ToString(), out var credentialId) ? credentialId : null, clock.GetUtcNow());
        session.Events.Append(HistoryStreamId(merchant.MerchantId), changed);
        session.Store(new MerchantStripeAccount(merchant.MerchantId, body.AccountId));
        await session.SaveChangesAsync(ct);
        return TypedResults.Ok(await ViewAsync(session, merchant.MerchantId, ct));
    }

    private static async Task<IResult> GetAsync(HttpContext http, IQuerySession session, CancellationToken ct) =>
        TypedResults.Ok(await ViewAsync(session, http.Merchant().MerchantId, ct));

    private static async Task<StripeAccountView> ViewAsync(IQuerySession session, Guid merchantId, CancellationToken ct)
    {
        var history = await session.Events.FetchStreamAsync(HistoryStreamId(merchantId), token: ct);
        return new StripeAccountView(await session.StripeAccountAsync(merchantId, ct), [.. history.Select(e => e.Data).OfType<StripeAccountChanged>()]);
    }
}
