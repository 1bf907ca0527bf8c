using System.Text.Json.Nodes;
using Fidpass.ServiceDefaults;
using Scalar.AspNetCore;

namespace Fidpass.Gateway.Docs;

/// <summary>
/// The API reference, aggregated at the gateway and usable offline: <c>/docs/{service}.json</c>
/// relays the public part of each routed service's own <c>/openapi/v1.json</c> (service = a cluster
/// id of <c>ReverseProxy:Clusters</c> that a route sends to; the web front end is not an API), with
/// the French examples of <see cref="IntegratorExamples"/>, and <c>/docs</c> renders them with
/// Scalar, whose scripts are embedded in its NuGet package and served from here: no CDN, no web
/// fonts, no proxy, no telemetry, no AI agent, so the page works on a network without Internet
/// access and sends nothing elsewhere. <c>/openapi/…</c> itself is a management route (see <c>Management:Port</c>).
/// </summary>
public static class ApiDocs
{
    public const string HttpClientName = "openapi";

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapGet("/docs/{service}.json", Relay).ExcludeFromDescription();
        // Integrators' services first: the viewer opens on the first document.
        var services = Services(app.Configuration).Keys.OrderBy(s => Array.IndexOf(IntegratorOrder, s) is var i and >= 0 ? i : int.MaxValue)
            .ThenBy(s => s, StringComparer.Ordinal).ToList();
        app.MapScalarApiReference("/docs", options => options
            .WithTitle("Référence de l'API Fidpass")
            .WithOpenApiRoutePattern("/docs/{documentName}.json")
            .AddDocuments(services)
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp()
            .HideDeveloperTools()
            .WithNonce()
            .WithLocalization(new ScalarLocalizationOptions { Locale = "fr" }))
            .ExcludeFromDescription()
            .AddEndpointFilter(async (context, next) =>
            {
                var http = context.HttpContext;
                http.Response.OnStarting(() =>
                {
                    // Scalar's own scripts (same origin) and its one inline start-up script, by the nonce it emits.
                    var nonce = http.Items[ScalarOptions.NonceHttpContextItemKey] as string;
                    http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy(nonce);
                    return Task.CompletedTask;
                });
                return await next(context);
            });
        return app;
    }

    private static readonly string[] IntegratorOrder = ["loyalty", "stripe-terminal", "cashlogy-edge", "merchant-token"];

    /// <summary>Everything from this origin; inline styles (the viewer's themes); the one inline script only by its nonce.</summary>
    public static string ContentSecurityPolicy(string? nonce) =>
        $"default-src 'self'; script-src 'self'{(nonce is null ? "" : $" 'nonce-{nonce}'")}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        + "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static IReadOnlyDictionary<string, Uri> Services(IConfiguration configuration)
    {
        var routed = configuration.GetSection("ReverseProxy:Routes").GetChildren().Select(r => r["ClusterId"]).ToHashSet(StringComparer.Ordinal);
        return configuration.GetSection("ReverseProxy:Clusters").GetChildren()
            .Where(c => routed.Contains(c.Key))
            .Select(c => (c.Key, Address: c.GetSection("Destinations").GetChildren().Select(d => d["Address"]).FirstOrDefault(a => !string.IsNullOrEmpty(a))))
            .Where(c => Uri.IsWellFormedUriString(c.Address, UriKind.Absolute))
            .ToDictionary(c => c.Key, c => new Uri(c.Address!), StringComparer.Ordinal);
    }

    private static async Task<IResult> Relay(string service, IConfiguration configuration, IHttpClientFactory clients, CancellationToken ct)
    {
        if (!Services(configuration).TryGetValue(service, out var address))
        {
            return ApiProblems.Problem(StatusCodes.Status404NotFound, "UNKNOWN_SERVICE", "Aucun service de ce nom derrière la passerelle.");
        }

        try
        {
            using var response = await clients.CreateClient(HttpClientName).GetAsync(new Uri(address, "/openapi/v1.json"), ct);
            if (response.IsSuccessStatusCode)
            {
                return TypedResults.Text(IntegratorExamples.Add(service, PublicOnly(await response.Content.ReadAsStringAsync(ct))), "application/json; charset=utf-8");
            }
        }
        catch (HttpRequestException)
        {
            // Reported below: the service is down or starting.
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            // Timed out: same answer.
        }

        return ApiProblems.Problem(StatusCodes.Status503ServiceUnavailable, "SERVICE_UNAVAILABLE", $"Le service « {service} » ne répond pas pour le moment.");
    }

    /// <summary>The reference shows what the gateway routes: internal and development routes, and the service's own address, are left out.</summary>
    public static string PublicOnly(string document)
    {
        if (JsonNode.Parse(document) is not JsonObject root)
        {
            return document;
        }

        root.Remove("servers");
        if (root["paths"] is JsonObject paths)
        {
            foreach (var path in paths.Select(p => p.Key).Where(p => p.StartsWith("/internal/", StringComparison.Ordinal) || p.StartsWith("/dev/", StringComparison.Ordinal)).ToList())
            {
                paths.Remove(path);
            }
        }

        return root.ToJsonString();
    }
}
