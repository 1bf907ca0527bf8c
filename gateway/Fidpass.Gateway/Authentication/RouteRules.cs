using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Fidpass.Gateway.Authentication;

/// <summary>
/// What a route asks of the gateway, read from the route's <c>Metadata</c> in configuration:
/// <c>Fidpass.Auth</c> (<c>credential</c> by default, <c>anonymous</c> for public routes,
/// <c>operator</c> when the service checks an operator key itself, <c>none</c> for callers that sign
/// their requests, e.g. Stripe webhooks), <c>Fidpass.Api</c> (<c>compat</c> for the historical
/// <c>/api/businesses</c> error bodies, <c>v1</c> otherwise) and <c>Fidpass.RateLimit</c> (the
/// public route family whose own stricter per-IP bucket the route counts against: <c>enrolment</c>,
/// <c>signup</c>, <c>card</c>).
/// </summary>
public sealed record RouteRules(string RouteId, string Auth, bool Compat, string? PublicRateLimit)
{
    public const string Credential = "credential";
    public const string Anonymous = "anonymous";
    public const string Operator = "operator";
    public const string None = "none";

    public static RouteRules? For(HttpContext context)
    {
        if (context.Items.TryGetValue(typeof(RouteRules), out var cached))
        {
            return cached as RouteRules;
        }

        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config;
        var rules = route is null ? null : Known.GetValue(route, Read);
        context.Items[typeof(RouteRules)] = rules;
        return rules;
    }

    // Read once per route configuration (a configuration reload brings new RouteConfig objects).
    private static readonly ConditionalWeakTable<RouteConfig, RouteRules> Known = new();

    private static RouteRules Read(RouteConfig route)
    {
        var metadata = route.Metadata ?? new Dictionary<string, string>();
        return new RouteRules(
            route.RouteId,
            metadata.GetValueOrDefault("Fidpass.Auth") ?? Credential,
            string.Equals(metadata.GetValueOrDefault("Fidpass.Api"), "compat", StringComparison.OrdinalIgnoreCase),
            metadata.GetValueOrDefault("Fidpass.RateLimit") is { Length: > 0 } family ? family.ToLowerInvariant() : null);
    }

    /// <summary>Error bodies: compatibility routes keep <c>{"error","code"}</c>, even when no route matched their prefix.</summary>
    public static bool IsCompatPath(HttpContext context) => For(context)?.Compat ?? context.Request.Path.StartsWithSegments("/api/businesses");
}
