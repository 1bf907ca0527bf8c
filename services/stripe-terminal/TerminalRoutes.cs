using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.StripeTerminal;

/// <summary>A merchant's Stripe setup: the platform account (null) or a connected account (<c>acct_…</c>).</summary>
public sealed record MerchantStripeAccount(Guid Id, string? AccountId);

/// <summary>
/// <c>/api/v1/merchants/{slug}/terminal/…</c>: the gateway's identity must name the same merchant
/// (else 404, as if the merchant did not exist) and allow the <c>terminal</c> scope (else 403).
/// </summary>
public static class TerminalRoutes
{
    private const string IdentityKey = "fidpass.identity";

    public static RouteGroupBuilder MapTerminalGroup(this WebApplication app)
    {
        var group = app.MapGroup("/api/v1/merchants/{slug}/terminal").WithTags("Terminal");
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var identity = GatewayIdentity.From(http.Request);
            if (identity is null || !identity.IsAuthenticated)
            {
                return ApiProblems.Problem(401, "unauthenticated", "Identification requise.");
            }

            if (!string.Equals(identity.Slug, http.GetRouteValue("slug") as string, StringComparison.Ordinal))
            {
                return ApiProblems.Problem(404, "merchant_not_found", "Commerce inconnu.");
            }

            if (!identity.Allows("terminal"))
            {
                return ApiProblems.Problem(403, "scope_missing", "Cette clé n'a pas le droit « terminal ».");
            }

            http.Items[IdentityKey] = identity;
            try
            {
                return await next(context);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !http.RequestAborted.IsCancellationRequested)
            {
                // Stripe unreachable or too slow: what was journaled stays, the till retries the same sale.
                return ApiProblems.Problem(502, "stripe_unavailable", "Stripe ne répond pas pour le moment. Réessayez le même paiement dans un instant.");
            }
        });
        return group;
    }

    public static GatewayIdentity Merchant(this HttpContext http) => (GatewayIdentity)http.Items[IdentityKey]!;

    public static async Task<string?> StripeAccountAsync(this IQuerySession session, Guid merchantId, CancellationToken ct) =>
        (await session.LoadAsync<MerchantStripeAccount>(merchantId, ct))?.AccountId;
}
