using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fidpass.FakeGoogleWallet;

/// <summary><c>FakeGoogleWallet</c>: the service account it trusts and the issuer it serves.</summary>
public sealed class FakeGoogleWalletOptions
{
    /// <summary>The service account's JSON key (<c>client_email</c>, <c>private_key</c>): assertions signed by anything else are refused.</summary>
    public string? ServiceAccountKeyPath { get; init; }

    /// <summary>The issuer whose classes and objects this account may write (ids start with <c>{IssuerId}.</c>).</summary>
    public string IssuerId { get; init; } = "3388000000000000000";
}

/// <summary>A call the Wallet API answered (success or not).</summary>
public sealed record RecordedCall(string Method, string Path, int Status, DateTimeOffset At);

/// <summary>Classes, objects and access tokens the fake holds, and the API calls it answered.</summary>
public sealed class FakeGoogleWalletState
{
    private readonly ConcurrentQueue<RecordedCall> _calls = new();

    public ConcurrentDictionary<string, JsonObject> Classes { get; } = new();

    public ConcurrentDictionary<string, JsonObject> Objects { get; } = new();

    public ConcurrentDictionary<string, DateTimeOffset> Tokens { get; } = new();

    public IReadOnlyList<RecordedCall> Calls => [.. _calls];

    public void Record(RecordedCall call) => _calls.Enqueue(call);

    /// <summary>A JSON copy (the stored resources are changed in place under their lock).</summary>
    public static JsonObject Copy(JsonObject resource)
    {
        lock (resource)
        {
            return JsonNode.Parse(resource.ToJsonString())!.AsObject();
        }
    }
}

/// <summary>
/// Google Wallet's REST API (https://developers.google.com/wallet/reference/rest/v1) for loyalty
/// cards, and the OAuth token endpoint a service account uses: <c>POST /token</c> (JWT bearer
/// grant, RS256 assertion checked against the configured key, <c>aud</c> = this endpoint, the
/// <c>wallet_object.issuer</c> scope, an hour at most), then <c>/walletobjects/v1/loyaltyClass</c>
/// and <c>/loyaltyObject</c> insert / get / patch and <c>addMessage</c> with a bearer token it
/// issued: 401 without, 403 outside the issuer, 400 for a missing required field, 404 for an
/// unknown id, 409 for an id that exists, in Google's error shape.
/// </summary>
public static class FakeGoogleWalletServer
{
    public const string Scope = "https://www.googleapis.com/auth/wallet_object.issuer";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:12113");
        }

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var options = builder.Configuration.GetSection("FakeGoogleWallet").Get<FakeGoogleWalletOptions>() ?? new FakeGoogleWalletOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<FakeGoogleWalletState>();

        var app = builder.Build();
        var state = app.Services.GetRequiredService<FakeGoogleWalletState>();
        var account = new ServiceAccountKey(options);
        app.Lifetime.ApplicationStopped.Register(account.Dispose);

        app.MapPost("/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer")
            {
                return OAuthError("unsupported_grant_type", "Invalid grant_type: " + form["grant_type"]);
            }

            var audience = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
            if (account.Check(form["assertion"].ToString(), audience) is { } refusal)
            {
                return refusal;
            }

            var token = "ya29.fake-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            state.Tokens[token] = DateTimeOffset.UtcNow.AddHours(1);
            return Results.Json(new { access_token = token, expires_in = 3599, token_type = "Bearer" });
        });

        var api = app.MapGroup("/walletobjects/v1");
        api.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var authorization = http.Request.Headers.Authorization.ToString();
            var bearer = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..] : "";
            var result = state.Tokens.TryGetValue(bearer, out var expires) && expires > DateTimeOffset.UtcNow
                ? await next(context)
                : Error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
            state.Record(new RecordedCall(http.Request.Method, http.Request.Path.ToString(), (result as IStatusCodeHttpResult)?.StatusCode ?? 200, DateTimeOffset.UtcNow));
            return result;
        });

        MapResource(api, "loyaltyClass", state.Classes, ["issuerName", "programName", "reviewStatus", "programLogo.sourceUri.uri"], options, state);
        MapResource(api, "loyaltyObject", state.Objects, ["classId", "state"], options, state);
        api.MapPost("/loyaltyObject/{id}/addMessage", async (string id, HttpRequest request) =>
        {
            if (Refused(id, options) is { } refusal)
            {
                return refusal;
            }

            if (!state.Objects.TryGetValue(id, out var found))
            {
                return Error(404, "NOT_FOUND", $"Resource {id} not found.");
            }

            if (await BodyAsync(request) is not { } body || body["message"] is not JsonObject message || (string?)message["body"] is null)
            {
                return Error(400, "INVALID_ARGUMENT", "Invalid AddMessageRequest: message.body is required.");
            }

            lock (found)
            {
                if (found["messages"] is not JsonArray messages)
                {
                    found["messages"] = messages = [];
                }

                messages.Add(message.DeepClone());
            }

            return Results.Json(new JsonObject { ["resource"] = FakeGoogleWalletState.Copy(found) });
        });

        app.MapGet("/__fake/classes/{id}", (string id) => state.Classes.TryGetValue(id, out var c) ? Results.Json(FakeGoogleWalletState.Copy(c)) : Results.NotFound());
        app.MapGet("/__fake/objects/{id}", (string id) => state.Objects.TryGetValue(id, out var o) ? Results.Json(FakeGoogleWalletState.Copy(o)) : Results.NotFound());
        app.MapGet("/__fake/calls", () => state.Calls);
        app.MapPost("/__fake/tokens/revoke", () =>
        {
            state.Tokens.Clear();
            return Results.NoContent();
        });
        return app;
    }

    /// <summary>Insert, get and patch of one resource kind.</summary>
    private static void MapResource(RouteGroupBuilder api, string kind, ConcurrentDictionary<string, JsonObject> store, string[] required,
        FakeGoogleWalletOptions options, FakeGoogleWalletState state)
    {
        api.MapPost($"/{kind}", async (HttpRequest request) =>
        {
            if (await BodyAsync(request) is not { } body || (string?)body["id"] is not { } id)
            {
                return Error(400, "INVALID_ARGUMENT", "Invalid resource: id is required.");
            }

            if (Refused(id, options) is { } refusal)
            {
                return refusal;
            }

            if (required.FirstOrDefault(field => Field(body, field) is null) is { } missing)
            {
                return Error(400, "INVALID_ARGUMENT", $"Invalid resource: {missing} is required.");
            }

            if (body["classId"] is { } classId && !state.Classes.ContainsKey((string)classId!))
            {
                return Error(404, "NOT_FOUND", $"Class {(string)classId!} not found.");
            }

            return store.TryAdd(id, body)
                ? Results.Json(FakeGoogleWalletState.Copy(body))
                : Error(409, "ALREADY_EXISTS", $"Resource with id {id} already exists.");
        });
        api.MapGet($"/{kind}/{{id}}", (string id) => Refused(id, options) ?? (store.TryGetValue(id, out var found)
            ? Results.Json(FakeGoogleWalletState.Copy(found))
            : Error(404, "NOT_FOUND", $"Resource {id} not found.")));
        api.MapPatch($"/{kind}/{{id}}", async (string id, HttpRequest request) =>
        {
            if (Refused(id, options) is { } refusal)
            {
                return refusal;
            }

            if (!store.TryGetValue(id, out var found))
            {
                return Error(404, "NOT_FOUND", $"Resource {id} not found.");
            }

            if (await BodyAsync(request) is not { } patch || (patch["id"] is { } patchId && (string?)patchId != id))
            {
                return Error(400, "INVALID_ARGUMENT", "Invalid patch: the id cannot change.");
            }

            lock (found)
            {
                // Google's patch: the fields sent replace the stored ones (arrays whole), the others stay.
                foreach (var (name, value) in patch.ToList())
                {
                    found[name] = value?.DeepClone();
                }
            }

            return Results.Json(FakeGoogleWalletState.Copy(found));
        });
    }

    private static async Task<JsonObject?> BodyAsync(HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonNode? Field(JsonObject body, string path)
    {
        JsonNode? node = body;
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
        }

        return node is JsonValue value && value.TryGetValue<string>(out var text) && text.Length == 0 ? null : node;
    }

    /// <summary>Ids are <c>{issuer}.{suffix}</c> with letters, digits, '.', '_' and '-'; another issuer's are forbidden.</summary>
    private static IResult? Refused(string id, FakeGoogleWalletOptions options)
    {
        if (!id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            return Error(400, "INVALID_ARGUMENT", $"Invalid resource id: {id}.");
        }

        return id.StartsWith(options.IssuerId + ".", StringComparison.Ordinal)
            ? null
            : Error(403, "PERMISSION_DENIED", $"The caller does not have permission for the issuer of {id}.");
    }

    private static IResult Error(int code, string status, string message) => Results.Json(new
    {
        error = new { code, message, errors = new[] { new { message, domain = "global", reason = status.ToLowerInvariant() } }, status },
    }, statusCode: code);

    private static IResult OAuthError(string error, string description) =>
        Results.Json(new { error, error_description = description }, statusCode: 400);

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        return Convert.FromBase64String(padded);
    }

    /// <summary>The trusted service account's key, read at the first token request (under ./fidpass and compose the wallet writes the test key when it starts).</summary>
    private sealed class ServiceAccountKey(FakeGoogleWalletOptions options) : IDisposable
    {
        private readonly RSA _key = RSA.Create();
        private readonly Lock _gate = new();
        private string? _email;

        public IResult? Check(string assertion, string audience)
        {
            if (!Loaded())
            {
                return OAuthError("invalid_client", "The OAuth client was not found.");
            }

            var parts = assertion.Split('.');
            if (parts.Length != 3)
            {
                return OAuthError("invalid_grant", "Invalid JWT.");
            }

            try
            {
                using var header = JsonDocument.Parse(FromBase64Url(parts[0]));
                using var claims = JsonDocument.Parse(FromBase64Url(parts[1]));
                var claim = claims.RootElement;
                if (header.RootElement.GetProperty("alg").GetString() != "RS256"
                    || !_key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                {
                    return OAuthError("invalid_grant", "Invalid JWT Signature.");
                }

                if (claim.GetProperty("iss").GetString() != _email)
                {
                    return OAuthError("invalid_grant", "Invalid email or User ID");
                }

                if (claim.GetProperty("aud").GetString() != audience)
                {
                    return OAuthError("invalid_grant", "Invalid JWT: aud is not the token endpoint.");
                }

                var scopes = (claim.TryGetProperty("scope", out var scope) ? scope.GetString() ?? "" : "").Split(' ');
                if (!scopes.Contains(Scope))
                {
                    return OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
                }

                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                var issuedAt = claim.GetProperty("iat").GetInt64();
                var expires = claim.GetProperty("exp").GetInt64();
                return issuedAt > now + 60 || expires <= now || expires - issuedAt > 3600
                    ? OAuthError("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
                    : null;
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or CryptographicException)
            {
                return OAuthError("invalid_grant", "Invalid JWT.");
            }
        }

        private bool Loaded()
        {
            lock (_gate)
            {
                if (_email is null && !string.IsNullOrWhiteSpace(options.ServiceAccountKeyPath) && File.Exists(options.ServiceAccountKeyPath))
                {
                    var file = JsonNode.Parse(File.ReadAllText(options.ServiceAccountKeyPath))!;
                    _key.ImportFromPem((string)file["private_key"]!);
                    _email = (string)file["client_email"]!;
                }

                return _email is not null;
            }
        }

        public void Dispose() => _key.Dispose();
    }
}
