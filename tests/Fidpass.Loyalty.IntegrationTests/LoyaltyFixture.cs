using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>One loyalty service on its own database and virtual host, shared by a test class; each
/// test uses its own merchant so tests never see each other's data.</summary>
public sealed class LoyaltyFixture : IAsyncLifetime
{
    public string Postgres { get; private set; } = "";
    public string RabbitMq { get; private set; } = "";
    public ServiceHost<LoyaltyApi> Host { get; private set; } = null!;

    public async ValueTask InitializeAsync() => await InitializeAsync(await TestServers.CreateDatabaseAsync("loyalty"));

    public async ValueTask InitializeAsync(string postgres, Action<ServiceHost<LoyaltyApi>>? configure = null)
    {
        Postgres = postgres;
        RabbitMq = await TestServers.CreateVirtualHostAsync("loyalty");
        Host = new ServiceHost<LoyaltyApi>().WithInfrastructure(Postgres, RabbitMq);
        configure?.Invoke(Host);
        await Host.StartedAsync();
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();

    public TestMerchant NewMerchant() => new(Host, Guid.NewGuid(), "shop-" + Guid.NewGuid().ToString("N")[..10]);
}

/// <summary>A merchant as the gateway would present it to loyalty.</summary>
public sealed record TestMerchant(ServiceHost<LoyaltyApi> Host, Guid Id, string Slug)
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A client carrying the headers the gateway sets after authenticating.</summary>
    public HttpClient Client(string kind = GatewayIdentity.DashboardToken, string scopes = "", Guid? merchantId = null, string? slug = null)
    {
        var client = Host.CreateClient();
        client.DefaultRequestHeaders.Add(GatewayIdentity.MerchantIdHeader, (merchantId ?? Id).ToString());
        client.DefaultRequestHeaders.Add(GatewayIdentity.MerchantSlugHeader, slug ?? Slug);
        client.DefaultRequestHeaders.Add(GatewayIdentity.CredentialKindHeader, kind);
        client.DefaultRequestHeaders.Add(GatewayIdentity.ScopesHeader, scopes);
        return client;
    }

    /// <summary>Enrols a new e-mail (an existing one answers its member only to the merchant's credentials, <paramref name="kind"/>).</summary>
    public async Task<Guid> EnrolAsync(string name = "Jeanne Martin", string? email = null, string kind = GatewayIdentity.Anonymous)
    {
        using var client = Client(kind);
        var response = await client.PostAsJsonAsync($"/api/businesses/{Slug}/members",
            new { name, email = email ?? $"{Guid.NewGuid():N}@example.fr" }, Ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
    }

    public async Task<long> BalanceAsync(Guid memberId)
    {
        using var client = Client();
        var body = await client.GetFromJsonAsync<JsonElement>($"/api/businesses/{Slug}/integration/lookup?barcode={memberId}", Ct);
        return body.GetProperty("member").GetProperty("points").GetInt64();
    }

    public async Task PutProgramAsync(object program)
    {
        using var client = Client();
        (await client.PutAsJsonAsync($"/api/v1/merchants/{Slug}/program", program, Ct)).EnsureSuccessStatusCode();
    }

    public async Task<HttpResponseMessage> ScanAsync(string json, string? idempotencyKey = null, HttpClient? client = null)
    {
        using var own = client is null ? Client() : null;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/businesses/{Slug}/integration/scan")
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await (client ?? own!).SendAsync(request, Ct);
    }
}

public static class Json
{
    public static async Task<JsonElement> BodyAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
}
