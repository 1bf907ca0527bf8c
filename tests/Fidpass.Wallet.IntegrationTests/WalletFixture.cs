using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Merchants;
using Fidpass.FakeApns;
using Fidpass.FakeGoogleWallet;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;
using Fidpass.Wallet.Apple;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Wallet.IntegrationTests;

/// <summary>
/// The wallet service on its real Program (its own database and RabbitMQ vhost), signing with a
/// pass type certificate and WWDR-like intermediate given by configuration (a test chain written to
/// files here) and pushing with a <c>.p8</c> key given by configuration to the fake APNs, which knows
/// that key. Loyalty's events are published on the bus as loyalty publishes them.
/// </summary>
public sealed class WalletFixture : IAsyncLifetime
{
    public const string PassTypeIdentifier = "pass.fr.fidpass.integration";
    public const string TeamIdentifier = "FIDTEAM001";
    public const string KeyId = "FIDKEY0001";
    public const string GoogleIssuerId = "3388000000012345678";
    public const string GoogleServiceAccount = "wallet-it@fidpass-it.iam.gserviceaccount.com";
    public const string WebOrigin = "https://fidpass.test";

    private readonly string _folder = Directory.CreateTempSubdirectory("fidpass-wallet-").FullName;
    private WebApplication? _apns;
    private WebApplication? _google;
    private IBusControl? _bus;

    public ServiceHost<WalletApi> Wallet { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public FakeApnsState Apns { get; private set; } = null!;
    public TestCertificates.Chain Chain { get; private set; } = null!;

    /// <summary>The service account's key, as Google knows it: the save links and token assertions verify with it.</summary>
    public RSA GoogleKey { get; } = RSA.Create(2048);

    public FakeGoogleWalletState Google { get; private set; } = null!;

    public HttpClient NoRedirectClient { get; private set; } = null!;

    /// <summary>Every loyalty message the wallet finished consuming, by operation id (or member id for enrolments and erasures).</summary>
    public ConcurrentDictionary<Guid, int> Consumed => ConsumedMessages.Counts;

    private ConsumedMessages ConsumedMessages { get; } = new();

    public async ValueTask InitializeAsync()
    {
        var postgres = await TestServers.CreateDatabaseAsync("wallet_it");
        var rabbitMq = await TestServers.CreateVirtualHostAsync("wallet-it");

        Chain = TestCertificates.Create(PassTypeIdentifier, TeamIdentifier);
        var pfx = Path.Combine(_folder, "pass.p12");
        await File.WriteAllBytesAsync(pfx, Chain.Pass.Export(X509ContentType.Pkcs12, "secret"));
        var intermediate = Path.Combine(_folder, "wwdr.pem");
        await File.WriteAllTextAsync(intermediate, Chain.Intermediate.ExportCertificatePem());
        using var apnsKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p8 = Path.Combine(_folder, "AuthKey.p8");
        await File.WriteAllTextAsync(p8, apnsKey.ExportPkcs8PrivateKeyPem());

        _apns = FakeApnsServer.Build([
            "--urls", "http://127.0.0.1:0", "--FakeApns:KeyPath", p8, "--FakeApns:KeyId", KeyId,
            "--FakeApns:TeamId", TeamIdentifier, "--FakeApns:Topic", PassTypeIdentifier]);
        await _apns.StartAsync();
        Apns = _apns.Services.GetRequiredService<FakeApnsState>();

        var serviceAccount = Path.Combine(_folder, "service-account.json");
        _google = FakeGoogleWalletServer.Build([
            "--urls", "http://127.0.0.1:0", "--FakeGoogleWallet:ServiceAccountKeyPath", serviceAccount,
            "--FakeGoogleWallet:IssuerId", GoogleIssuerId]);
        await _google.StartAsync();
        Google = _google.Services.GetRequiredService<FakeGoogleWalletState>();
        var google = _google.Urls.First().TrimEnd('/');
        await File.WriteAllTextAsync(serviceAccount, new JsonObject
        {
            ["type"] = "service_account",
            ["private_key_id"] = "it-key-1",
            ["private_key"] = GoogleKey.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = GoogleServiceAccount,
            ["token_uri"] = google + "/token",
        }.ToJsonString());

        Wallet = new ServiceHost<WalletApi>();
        Wallet.WithInfrastructure(postgres, rabbitMq)
            .With("Wallet:Apple:PassTypeIdentifier", PassTypeIdentifier)
            .With("Wallet:Apple:TeamIdentifier", TeamIdentifier)
            .With("Wallet:Apple:CertificatePath", pfx)
            .With("Wallet:Apple:CertificatePassword", "secret")
            .With("Wallet:Apple:IntermediateCertificatePath", intermediate)
            .With("Wallet:Apple:WebServiceUrl", "https://fidpass.test/wallet/apple")
            .With("Wallet:Apple:Apns:BaseAddress", _apns.Urls.First())
            .With("Wallet:Apple:Apns:KeyPath", p8)
            .With("Wallet:Apple:Apns:KeyId", KeyId)
            .With("Wallet:Google:IssuerId", GoogleIssuerId)
            .With("Wallet:Google:ServiceAccountKeyPath", serviceAccount)
            .With("Wallet:Google:ApiBaseAddress", google + "/walletobjects/v1/")
            .With("Wallet:Google:Origins:0", WebOrigin)
            .With("Wallet:Google:ImageBaseUrl", "https://api.fidpass.test")
            .WithServices(services => services.AddConsumeObserver(_ => ConsumedMessages));
        await Wallet.StartedAsync();
        Client = Wallet.CreateClient();
        NoRedirectClient = Wallet.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        _bus = Bus.Factory.CreateUsingRabbitMq(bus => bus.Host(new Uri(rabbitMq)));
        await _bus.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        Client?.Dispose();
        NoRedirectClient?.Dispose();
        if (Wallet is not null)
        {
            await Wallet.DisposeAsync();
        }

        if (_apns is not null)
        {
            await _apns.StopAsync();
            await _apns.DisposeAsync();
        }

        if (_google is not null)
        {
            await _google.StopAsync();
            await _google.DisposeAsync();
        }

        GoogleKey.Dispose();
        Chain?.Root.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    public Task PublishAsync<T>(T message)
        where T : class => _bus!.Publish(message, TestContext.Current.CancellationToken);

    /// <summary>A merchant and one of its members, once the wallet has their pass.</summary>
    public async Task<Member> EnrolAsync(string merchantName = "Café Dupont", string firstName = "Camille")
    {
        var merchantId = Guid.NewGuid();
        var slug = "cafe-" + merchantId.ToString("N")[..8];
        await PublishAsync(new MerchantRegistered(merchantId, slug, merchantName, "contact@example.fr", DateTimeOffset.UtcNow));
        await Eventually.True(() => Task.FromResult(Consumed.ContainsKey(merchantId)), TimeSpan.FromSeconds(30), "MerchantRegistered consumed");
        var member = new Member(Guid.NewGuid(), merchantId, slug, this);
        await PublishAsync(new MemberEnrolled(member.Id, merchantId, DateTimeOffset.UtcNow) { FirstName = firstName });
        await Eventually.True(async () => (await member.DownloadAsync()).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "pass created");
        return member;
    }

    /// <summary>Pushes the fake APNs accepted for <paramref name="pushToken"/>.</summary>
    public int PushesTo(string pushToken) => Apns.Pushes.Count(p => p.DeviceToken == pushToken);

    public static string NewPushToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>The files of a <c>.pkpass</c>.</summary>
    public static Dictionary<string, byte[]> Unzip(byte[] pkpass)
    {
        using var zip = new ZipArchive(new MemoryStream(pkpass), ZipArchiveMode.Read);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var stream = e.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        });
    }
}

/// <summary>A member as the tests drive it: their card page's download and the PassKit web service as their iPhone calls it.</summary>
public sealed record Member(Guid Id, Guid MerchantId, string Slug, WalletFixture Fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private long _balance;

    /// <summary>The card page's « Ajouter à Apple Wallet », as the gateway forwards it (merchant resolved, caller anonymous).</summary>
    public Task<HttpResponseMessage> DownloadAsync(Guid? asMerchant = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{Slug}/cards/{Id}/wallet/apple");
        request.Headers.Add(GatewayIdentity.MerchantIdHeader, (asMerchant ?? MerchantId).ToString());
        request.Headers.Add(GatewayIdentity.MerchantSlugHeader, Slug);
        request.Headers.Add(GatewayIdentity.CredentialKindHeader, GatewayIdentity.Anonymous);
        return Fixture.Client.SendAsync(request, Ct);
    }

    /// <summary>The card page's « Ajouter à Google Wallet », as the gateway forwards it (not followed: the answer is Google's address).</summary>
    public Task<HttpResponseMessage> GoogleLinkAsync()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{Slug}/cards/{Id}/wallet/google");
        request.Headers.Add(GatewayIdentity.MerchantIdHeader, MerchantId.ToString());
        request.Headers.Add(GatewayIdentity.MerchantSlugHeader, Slug);
        request.Headers.Add(GatewayIdentity.CredentialKindHeader, GatewayIdentity.Anonymous);
        return Fixture.NoRedirectClient.SendAsync(request, Ct);
    }

    /// <summary>The member's object id at Google.</summary>
    public string GoogleObjectId => $"{WalletFixture.GoogleIssuerId}.member-{Id:N}";

    /// <summary>The object the fake Google Wallet holds for this member, if any.</summary>
    public JsonObject? GoogleObject => Fixture.Google.Objects.TryGetValue(GoogleObjectId, out var o) ? FakeGoogleWalletState.Copy(o) : null;

    /// <summary>The API calls that wrote this member's object (insert excluded).</summary>
    public int GoogleWrites(string method, string suffix = "") =>
        Fixture.Google.Calls.Count(c => c.Method == method && c.Path == $"/walletobjects/v1/loyaltyObject/{GoogleObjectId}{suffix}");

    public async Task<JsonObject> PassJsonAsync()
    {
        using var response = await DownloadAsync();
        response.EnsureSuccessStatusCode();
        var files = WalletFixture.Unzip(await response.Content.ReadAsByteArrayAsync(Ct));
        return JsonNode.Parse(files["pass.json"])!.AsObject();
    }

    public async Task<string> AuthenticationTokenAsync() => (string)(await PassJsonAsync())["authenticationToken"]!;

    /// <summary>Loyalty credits the member: <c>PointsCredited</c> with the new balance, as its relay publishes it.</summary>
    public async Task<PointsCredited> CreditAsync(long points)
    {
        _balance += points;
        var credited = new PointsCredited(Guid.NewGuid(), Id, MerchantId, points, _balance, PointsSource.Integration, null, DateTimeOffset.UtcNow);
        await Fixture.PublishAsync(credited);
        return credited;
    }

    public Task<HttpResponseMessage> WebServiceAsync(HttpMethod method, string path, string? token, HttpContent? body = null,
        DateTimeOffset? ifModifiedSince = null)
    {
        var request = new HttpRequestMessage(method, "/wallet/apple/v1/" + path) { Content = body };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "ApplePass " + token);
        }

        request.Headers.IfModifiedSince = ifModifiedSince;
        return Fixture.Client.SendAsync(request, Ct);
    }

    public string RegistrationPath(string device) => $"devices/{device}/registrations/{WalletFixture.PassTypeIdentifier}/{Id}";

    public Task<HttpResponseMessage> RegisterAsync(string device, string pushToken, string? token) =>
        WebServiceAsync(HttpMethod.Post, RegistrationPath(device), token, JsonContent(new JsonObject { ["pushToken"] = pushToken }));

    public Task<HttpResponseMessage> LatestPassAsync(string? token, DateTimeOffset? ifModifiedSince = null) =>
        WebServiceAsync(HttpMethod.Get, $"passes/{WalletFixture.PassTypeIdentifier}/{Id}", token, ifModifiedSince: ifModifiedSince);

    private static StringContent JsonContent(JsonObject body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
}

/// <summary>Counts what the wallet's consumers finished, so a test knows a redelivery was handled (not merely sent).</summary>
internal sealed class ConsumedMessages : IConsumeObserver
{
    public ConcurrentDictionary<Guid, int> Counts { get; } = new();

    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        Guid? key = context.Message switch
        {
            PointsCredited m => m.OperationId,
            PointsDebited m => m.OperationId,
            PointsReversed m => m.OperationId,
            RewardRedeemed m => m.OperationId,
            MemberEnrolled m => m.MemberId,
            MemberErased m => m.MemberId,
            MerchantRegistered m => m.MerchantId,
            MerchantBrandingChanged m => m.MerchantId,
            RewardOfferChanged m => m.RewardId,
            _ => null,
        };
        if (key is { } id)
        {
            Counts.AddOrUpdate(id, 1, (_, n) => n + 1);
        }

        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class => Task.CompletedTask;
}
