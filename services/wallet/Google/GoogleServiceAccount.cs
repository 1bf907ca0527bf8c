using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fidpass.Wallet.Google;

/// <summary>
/// The Google Cloud service account the wallet acts as: its RSA key signs the « Ajouter à Google
/// Wallet » JWTs and the assertions exchanged for OAuth access tokens (RFC 7523, RS256). An access
/// token is reused until five minutes before it expires.
/// </summary>
public sealed class GoogleServiceAccount : IDisposable
{
    public const string Scope = "https://www.googleapis.com/auth/wallet_object.issuer";
    public const string HttpClientName = "google-oauth";
    private const string GoogleTokenUri = "https://oauth2.googleapis.com/token";

    private readonly RSA _key = RSA.Create(2048);
    private readonly IHttpClientFactory _clients;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (string Token, DateTimeOffset ExpiresAt)? _current;

    public GoogleServiceAccount(GoogleOptions options, IHttpClientFactory clients, TimeProvider time, ILogger<GoogleServiceAccount> log)
    {
        _clients = clients;
        _time = time;
        Email = "fidpass-wallet@fidpass-test.iam.gserviceaccount.com";
        KeyId = "fidpass-test-key";
        var tokenUri = GoogleTokenUri;
        var path = options.ServiceAccountKeyPath;
        if (!string.IsNullOrWhiteSpace(path) && File.Exists(path))
        {
            var file = JsonNode.Parse(File.ReadAllText(path))!;
            _key.ImportFromPem((string)file["private_key"]!);
            Email = (string)file["client_email"]!;
            KeyId = (string?)file["private_key_id"] ?? KeyId;
            tokenUri = (string?)file["token_uri"] ?? tokenUri;
            Configured = true;
        }
        else if (string.IsNullOrWhiteSpace(path))
        {
            log.LogWarning("Wallet:Google:ServiceAccountKeyPath is not set: Google Wallet requests are signed with a key generated at start; Google refuses them");
        }
        else
        {
            // A development machine or compose: the key is made here, in Google's key file format, and
            // the fake Google Wallet reads it from the same path. Google never saw this one.
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                File.WriteAllText(path, new JsonObject
                {
                    ["type"] = "service_account",
                    ["project_id"] = "fidpass-test",
                    ["private_key_id"] = KeyId,
                    ["private_key"] = _key.ExportPkcs8PrivateKeyPem(),
                    ["client_email"] = Email,
                    ["token_uri"] = options.TokenUri ?? GoogleTokenUri,
                }.ToJsonString());
                log.LogWarning("Wallet:Google:ServiceAccountKeyPath named no file: a test service-account key was generated there; Google refuses it");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("Wallet:Google:ServiceAccountKeyPath names no file (and none can be written there): requests are signed with a key generated at start; Google refuses them");
            }
        }

        TokenUri = options.TokenUri ?? tokenUri;
    }

    /// <summary>The service account's e-mail: the <c>iss</c> of everything it signs.</summary>
    public string Email { get; }

    public string KeyId { get; }

    /// <summary>False when the key was generated here: only the fake Google Wallet accepts it.</summary>
    public bool Configured { get; }

    public string TokenUri { get; }

    public byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>A bearer token for the Wallet API, from the token endpoint (JWT bearer grant).</summary>
    public async Task<string> AccessTokenAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var now = _time.GetUtcNow();
            if (_current is { } current && current.ExpiresAt - now > TimeSpan.FromMinutes(5))
            {
                return current.Token;
            }

            var assertion = Jwt.Sign(new { alg = "RS256", typ = "JWT", kid = KeyId },
                new { iss = Email, scope = Scope, aud = TokenUri, iat = now.ToUnixTimeSeconds(), exp = now.AddHours(1).ToUnixTimeSeconds() }, Sign);
            using var response = await _clients.CreateClient(HttpClientName).PostAsync(new Uri(TokenUri), new FormUrlEncodedContent(
            [
                new("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                new("assertion", assertion),
            ]), ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"Google's token endpoint refused the service account: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}",
                    null, response.StatusCode);
            }

            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            var token = body.GetProperty("access_token").GetString()!;
            var expiresIn = body.TryGetProperty("expires_in", out var seconds) ? seconds.GetInt32() : 3600;
            _current = (token, now.AddSeconds(expiresIn));
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The API refused the current token (401): the next call asks for a new one.</summary>
    public void ForgetAccessToken() => _current = null;

    public void Dispose()
    {
        _key.Dispose();
        _gate.Dispose();
    }
}
