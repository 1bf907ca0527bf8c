using System.Net;
using System.Text.Json.Nodes;
using Fidpass.ServiceDefaults;

namespace Fidpass.Gateway.Docs;

/// <summary>
/// The API reference, aggregated at the gateway and usable offline: <c>/docs/{service}.json</c>
/// relays the public part of each routed service's own <c>/openapi/v1.json</c> (service = a cluster
/// id of <c>ReverseProxy:Clusters</c> that a route sends to; the web front end is not an API), and
/// <c>/docs</c> is a small self-contained page that lists their operations (no CDN, no external
/// script). <c>/openapi/…</c> itself is a management route (see <c>Management:Port</c>).
/// </summary>
public static class ApiDocs
{
    public const string HttpClientName = "openapi";

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapGet("/docs/{service}.json", Relay).ExcludeFromDescription();
        app.MapGet("/docs", () => TypedResults.Content(Page(Services(app.Configuration)), "text/html; charset=utf-8")).ExcludeFromDescription();
        return app;
    }

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
                return TypedResults.Text(PublicOnly(await response.Content.ReadAsStringAsync(ct)), "application/json; charset=utf-8");
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

    private static string Page(IReadOnlyDictionary<string, Uri> services)
    {
        var list = string.Join(",", services.Keys.Select(s => "\"" + WebUtility.HtmlEncode(s) + "\""));
        return """
            <!doctype html>
            <html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Référence de l'API Fidpass</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
            h2{border-bottom:1px solid #ddd;padding-bottom:.3rem;margin-top:2rem}
            details{border:1px solid #e3e3e3;border-radius:.4rem;margin:.4rem 0;padding:.4rem .6rem}
            summary{cursor:pointer}code.m{display:inline-block;min-width:4.2rem;font-weight:bold}
            .get{color:#0b6e2e}.post{color:#084e9c}.put{color:#8a5a00}.delete{color:#a01818}.patch{color:#6b2fa0}
            pre{background:#f6f6f6;padding:.5rem;overflow:auto}
            </style></head><body>
            <h1>Référence de l'API Fidpass</h1>
            <p>Toutes les routes passent par cette passerelle. Authentification : <code>Authorization: Bearer fpk_…</code> (clé d'intégration, recommandé)
            ou <code>X-Dashboard-Token: fpd_…</code>. Documents OpenAPI bruts : <span id="links"></span>.</p>
            <div id="services"></div>
            <script>
            const services = [SERVICES];
            const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));
            document.getElementById("links").innerHTML = services.map(s => `<a href="/docs/${s}.json">${s}</a>`).join(", ");
            const root = document.getElementById("services");
            for (const service of services) {
              const section = document.createElement("section");
              section.innerHTML = `<h2>${esc(service)}</h2><p>Chargement…</p>`;
              root.appendChild(section);
              fetch(`/docs/${service}.json`).then(r => r.ok ? r.json() : Promise.reject(r.status)).then(doc => {
                const ops = [];
                for (const [path, item] of Object.entries(doc.paths ?? {}))
                  for (const [method, op] of Object.entries(item))
                    if (["get","post","put","delete","patch"].includes(method)) ops.push({path, method, op});
                section.innerHTML = `<h2>${esc(service)}</h2>` + (ops.length ? ops.map(({path, method, op}) =>
                  `<details><summary><code class="m ${method}">${method.toUpperCase()}</code> <code>${esc(path)}</code> — ${esc(op.summary ?? "")}</summary>` +
                  `<p>${esc(op.description ?? "")}</p>` +
                  `<p>Réponses : ${Object.keys(op.responses ?? {}).map(esc).join(", ")}</p></details>`).join("") : "<p>Aucune route publiée.</p>");
              }).catch(() => { section.innerHTML = `<h2>${esc(service)}</h2><p>Service indisponible pour le moment.</p>`; });
            }
            </script></body></html>
            """.Replace("[SERVICES]", "[" + list + "]", StringComparison.Ordinal);
    }
}
