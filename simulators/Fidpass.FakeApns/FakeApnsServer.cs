using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Fidpass.FakeApns;

/// <summary><c>FakeApns</c>: the key APNs knows for the provider (its public half is enough), and what it accepts.</summary>
public sealed class FakeApnsOptions
{
    /// <summary>The provider's <c>.p8</c> key (PKCS#8 PEM) or its public key (PEM); tokens signed by anything else are refused.</summary>
    public string? KeyPath { get; init; }

    public string KeyId { get; init; } = "FIDPASSKEY";

    public string TeamId { get; init; } = "FIDPASSTST";

    /// <summary>The only topic this provider may push to (the pass type id).</summary>
    public string Topic { get; init; } = "pass.fr.fidpass.test";
}

/// <summary>A push APNs accepted.</summary>
public sealed record RecordedPush(string DeviceToken, string Topic, string? PushType, string? Priority, string Payload, DateTimeOffset At);

/// <summary>What the fake has seen and which devices it considers gone (an app removed, a pass deleted).</summary>
public sealed class FakeApnsState
{
    private readonly ConcurrentQueue<RecordedPush> _pushes = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unregistered = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<RecordedPush> Pushes => [.. _pushes];

    public void Record(RecordedPush push) => _pushes.Enqueue(push);

    public void Unregister(string deviceToken) => _unregistered[deviceToken] = DateTimeOffset.UtcNow;

    public DateTimeOffset? UnregisteredAt(string deviceToken) => _unregistered.TryGetValue(deviceToken, out var at) ? at : null;
}

/// <summary>
/// APNs as a provider sees it (https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns):
/// <c>POST /3/device/{token}</c> over HTTP/2 only, a provider token (ES256 JWT, <c>kid</c>, <c>iss</c>,
/// <c>iat</c> under an hour old) checked against the configured key, the topic checked, 410
/// <c>Unregistered</c> for a device marked gone, and the errors' JSON <c>{"reason"}</c>.
/// Control: <c>GET /__fake/pushes</c>, <c>POST /__fake/devices/{token}/unregister</c>.
/// </summary>
public static class FakeApnsServer
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:12112");
        }

        // APNs is HTTP/2 only: without TLS that is h2c with prior knowledge, so HTTP/1.1 clients fail as they would with Apple.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var options = builder.Configuration.GetSection("FakeApns").Get<FakeApnsOptions>() ?? new FakeApnsOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<FakeApnsState>();

        var app = builder.Build();
        var state = app.Services.GetRequiredService<FakeApnsState>();
        var verifier = ECDsa.Create();
        var hasKey = false;
        var keyGate = new Lock();
        app.Lifetime.ApplicationStopped.Register(verifier.Dispose);

        // Read at the first push, not at start: under ./fidpass and compose the wallet writes the test key when it starts.
        bool KeyLoaded()
        {
            lock (keyGate)
            {
                if (!hasKey && !string.IsNullOrWhiteSpace(options.KeyPath) && File.Exists(options.KeyPath))
                {
                    verifier.ImportFromPem(File.ReadAllText(options.KeyPath));
                    hasKey = true;
                }

                return hasKey;
            }
        }

        app.MapPost("/3/device/{token}", async (string token, HttpContext http) =>
        {
            var request = http.Request;
            var payload = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(http.RequestAborted);
            // Without a configured key the fake cannot tell a provider from anyone: it refuses every token.
            var tokenReason = "InvalidProviderToken";
            if (!KeyLoaded() || !ValidToken(request.Headers.Authorization.ToString(), options, verifier, out tokenReason))
            {
                return Reason(403, tokenReason);
            }

            var topic = request.Headers["apns-topic"].ToString();
            if (topic.Length == 0)
            {
                return Reason(400, "MissingTopic");
            }

            if (topic != options.Topic)
            {
                return Reason(400, "TopicDisallowed");
            }

            if (token.Length != 64 || !token.All(Uri.IsHexDigit))
            {
                return Reason(400, "BadDeviceToken");
            }

            if (payload.Length == 0 || !IsJsonObject(payload))
            {
                return Reason(400, "PayloadEmpty");
            }

            if (state.UnregisteredAt(token) is { } gone)
            {
                return Results.Json(new { reason = "Unregistered", timestamp = gone.ToUnixTimeMilliseconds() }, statusCode: 410);
            }

            state.Record(new RecordedPush(token, topic, request.Headers["apns-push-type"].ToString(), request.Headers["apns-priority"].ToString(), payload, DateTimeOffset.UtcNow));
            http.Response.Headers["apns-id"] = Guid.NewGuid().ToString().ToUpperInvariant();
            return Results.Ok();
        });
        app.MapGet("/__fake/pushes", () => state.Pushes);
        app.MapPost("/__fake/devices/{token}/unregister", (string token) =>
        {
            state.Unregister(token);
            return Results.NoContent();
        });
        return app;
    }

    private static IResult Reason(int status, string reason) => Results.Json(new { reason }, statusCode: status);

    private static bool IsJsonObject(string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool ValidToken(string authorization, FakeApnsOptions options, ECDsa verifier, out string reason)
    {
        reason = "InvalidProviderToken";
        if (!authorization.StartsWith("bearer ", StringComparison.OrdinalIgnoreCase))
        {
            reason = "MissingProviderToken";
            return false;
        }

        var parts = authorization[7..].Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        try
        {
            using var header = JsonDocument.Parse(FromBase64Url(parts[0]));
            using var claims = JsonDocument.Parse(FromBase64Url(parts[1]));
            var signature = FromBase64Url(parts[2]);
            if (header.RootElement.GetProperty("alg").GetString() != "ES256"
                || header.RootElement.GetProperty("kid").GetString() != options.KeyId
                || claims.RootElement.GetProperty("iss").GetString() != options.TeamId)
            {
                return false;
            }

            var issuedAt = DateTimeOffset.FromUnixTimeSeconds(claims.RootElement.GetProperty("iat").GetInt64());
            if (DateTimeOffset.UtcNow - issuedAt > TimeSpan.FromHours(1))
            {
                reason = "ExpiredProviderToken";
                return false;
            }

            return signature.Length == 64
                && verifier.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), signature, HashAlgorithmName.SHA256);
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        return Convert.FromBase64String(padded);
    }
}
