using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Fidpass.Web.Session;

namespace Fidpass.Web.Gateway;

/// <summary>What the gateway answered: the status, the JSON body, and for a refusal its stable code and French message.</summary>
public sealed record GatewayResult(HttpStatusCode Status, JsonElement Body, string? Code, string? Message)
{
    public bool Ok => (int)Status is >= 200 and < 300;
}

/// <summary>The session the gateway no longer accepts (expired, signed out elsewhere, token regenerated).</summary>
public sealed class SessionEndedException() : Exception("La session web n'est plus valide.");

/// <summary>
/// The web's only way to data: the gateway, called server side with the merchant's session
/// (<c>Authorization: Bearer fps_…</c>), which the gateway authenticates like any credential.
/// </summary>
public sealed class GatewayClient(HttpClient http, IHttpContextAccessor accessor)
{
    public static Uri Address(IConfiguration configuration) =>
        new((configuration["Gateway:Address"] ?? "http://127.0.0.1:5080").TrimEnd('/') + "/");

    /// <summary>Where browsers and integrators reach the gateway (docs, curl examples, the public enrolment call).</summary>
    public static string PublicAddress(IConfiguration configuration) =>
        (configuration["Gateway:PublicAddress"] ?? configuration["Gateway:Address"] ?? "http://127.0.0.1:5080").TrimEnd('/');

    public Task<GatewayResult> OpenSessionAsync(string token, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "api/v1/sessions", new { token }, session: null, ct);

    public Task<GatewayResult> EndSessionAsync(string session, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, "api/v1/sessions/current", null, session, ct);

    public Task<GatewayResult> GetAsync(string path, CancellationToken ct) => MerchantAsync(HttpMethod.Get, path, null, ct);

    /// <summary>A public route, without any credential (what a customer's page shows).</summary>
    public Task<GatewayResult> PublicGetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, session: null, ct);

    public Task<GatewayResult> PostAsync(string path, object? body, CancellationToken ct, string? idempotencyKey = null) =>
        MerchantAsync(HttpMethod.Post, path, body, ct, idempotencyKey);

    public Task<GatewayResult> PutAsync(string path, object? body, CancellationToken ct, string? idempotencyKey = null) =>
        MerchantAsync(HttpMethod.Put, path, body, ct, idempotencyKey);

    public Task<GatewayResult> DeleteAsync(string path, CancellationToken ct, string? idempotencyKey = null) =>
        MerchantAsync(HttpMethod.Delete, path, null, ct, idempotencyKey);

    /// <summary>A path under the signed-in merchant: <c>api/v1/merchants/{slug}/…</c>.</summary>
    public string Merchant(string rest) =>
        $"api/v1/merchants/{Uri.EscapeDataString(MerchantSession.Of(accessor.HttpContext!.User).Slug)}/{rest}".TrimEnd('/');

    private async Task<GatewayResult> MerchantAsync(HttpMethod method, string path, object? body, CancellationToken ct, string? idempotencyKey = null)
    {
        var session = MerchantSession.Of(accessor.HttpContext!.User).Secret;
        var result = await SendAsync(method, path, body, session, ct, idempotencyKey);
        return result.Status == HttpStatusCode.Unauthorized ? throw new SessionEndedException() : result;
    }

    private async Task<GatewayResult> SendAsync(HttpMethod method, string path, object? body, string? session, CancellationToken ct, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (session is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session);
        }

        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var json = default(JsonElement);
        if (text.Length > 0)
        {
            try
            {
                json = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                json = default;
            }
        }

        if (response.IsSuccessStatusCode)
        {
            return new GatewayResult(response.StatusCode, json, null, null);
        }

        var code = Text(json, "code");
        var message = Text(json, "detail") ?? Text(json, "error");
        return new GatewayResult(response.StatusCode, json, code, message ?? "Le service n'a pas pu traiter la demande. Réessayez dans un instant.");
    }

    private static string? Text(JsonElement json, string name) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
