using System.Net;
using System.Security.Cryptography;
using System.Text;
using Fidpass.Wallet.Passes;
using Marten;

namespace Fidpass.Wallet.Apple;

/// <summary>A device that asked for a pass's updates (id = device library id + serial).</summary>
public sealed record AppleRegistration(string Id, string DeviceLibraryIdentifier, Guid SerialNumber, string PushToken, DateTimeOffset RegisteredAt)
{
    public static string IdOf(string deviceLibraryIdentifier, Guid serialNumber) => $"{deviceLibraryIdentifier}/{serialNumber}";
}

/// <summary>
/// The provider token APNs wants in every request: an ES256 JWT (<c>kid</c> = key id, <c>iss</c> =
/// team, <c>iat</c>), reused for 40 minutes (APNs refuses one older than an hour and throttles a
/// provider that makes a new one for every request).
/// </summary>
public sealed class ApnsToken : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(40);
    private readonly ECDsa _key;
    private readonly string _keyId;
    private readonly string _teamId;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private (string Jwt, DateTimeOffset IssuedAt)? _current;

    public ApnsToken(AppleOptions options, TimeProvider time, ILogger<ApnsToken> log)
    {
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var path = options.Apns.KeyPath;
        if (string.IsNullOrWhiteSpace(path))
        {
            log.LogWarning("Wallet:Apple:Apns:KeyPath is not set: APNs tokens are signed with a key generated at start; Apple refuses them");
        }
        else if (File.Exists(path))
        {
            _key.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            // A development machine or compose: the key is made here and the fake APNs reads it from
            // the same path. Apple issues real keys; this one only ever talks to the fake.
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                File.WriteAllText(path, _key.ExportPkcs8PrivateKeyPem());
                log.LogWarning("Wallet:Apple:Apns:KeyPath named no file: a test key was generated there; Apple refuses it");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("Wallet:Apple:Apns:KeyPath names no file (and none can be written there): APNs tokens are signed with a key generated at start; Apple refuses them");
            }
        }

        _keyId = options.Apns.KeyId;
        _teamId = options.Apns.TeamId ?? options.TeamIdentifier;
        _time = time;
    }

    public string Current()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_current is not { } current || now - current.IssuedAt > Lifetime)
            {
                current = (Jwt.Sign(new { alg = "ES256", kid = _keyId }, new { iss = _teamId, iat = now.ToUnixTimeSeconds() },
                    data => _key.SignData(data, HashAlgorithmName.SHA256)), now);
                _current = current;
            }

            return current.Jwt;
        }
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>
/// APNs pushes for a changed pass: an empty payload to every registered device's push token, with
/// the pass type id as topic (https://developer.apple.com/documentation/walletpasses/adding-a-web-service-to-update-passes).
/// The phone then asks the web service what changed. A token APNs says is gone (410) is unregistered.
/// </summary>
public sealed class ApplePushes(IHttpClientFactory clients, ApnsToken token, AppleOptions options, IDocumentStore store,
    ILogger<ApplePushes> log)
{
    public const string HttpClientName = "apns";

    /// <summary>True when every device was told (or none is registered).</summary>
    public async Task<bool> PushAsync(WalletPass pass, CancellationToken ct)
    {
        IReadOnlyList<AppleRegistration> devices;
        await using (var query = store.QuerySession())
        {
            devices = await query.Query<AppleRegistration>().Where(r => r.SerialNumber == pass.Id).ToListAsync(ct);
        }

        var allSent = true;
        foreach (var device in devices)
        {
            allSent &= await PushAsync(device, ct);
        }

        return allSent;
    }

    private async Task<bool> PushAsync(AppleRegistration device, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/3/device/{device.PushToken}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("authorization", $"bearer {token.Current()}");
        request.Headers.Add("apns-topic", options.PassTypeIdentifier);
        request.Headers.Add("apns-push-type", "alert");
        request.Headers.Add("apns-priority", "10");
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, ct);
            if (response.IsSuccessStatusCode)
            {
                WalletMetrics.Push("sent");
                return true;
            }

            var reason = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode == HttpStatusCode.Gone)
            {
                await using var session = store.LightweightSession();
                session.Delete<AppleRegistration>(device.Id);
                await session.SaveChangesAsync(ct);
                WalletMetrics.Push("gone");
                if (log.IsEnabled(LogLevel.Information))
                {
                    log.LogInformation("APNs: device {Device} no longer takes pass {Pass}'s updates (410); unregistered", device.DeviceLibraryIdentifier, device.SerialNumber);
                }

                return true;
            }

            log.LogWarning("APNs refused the push for pass {Pass}: {Status} {Reason}", device.SerialNumber, (int)response.StatusCode, reason);
            // A refused token or topic does not get better by retrying; APNs' own trouble (429, 5xx) does.
            var refused = (int)response.StatusCode is >= 400 and < 500 and not 429;
            WalletMetrics.Push(refused ? "refused" : "failed");
            return refused;
        }
        catch (HttpRequestException e)
        {
            WalletMetrics.Push("failed");
            log.LogWarning(e, "APNs unreachable for pass {Pass}; retried later", device.SerialNumber);
            return false;
        }
    }
}
