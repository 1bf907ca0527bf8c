using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>What the gateway's public port shows of its own insides, and what browsers may keep.</summary>
public sealed class HardeningTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Metrics_OpenAPI_and_health_details_answer_on_the_management_port_only_and_the_reference_stays_public()
    {
        var (host, gateway) = await fixture.StartGatewayAsync(g => g.WithManagementPort());
        using var management = new HttpClient { BaseAddress = host.ManagementAddress };

        foreach (var path in new[] { "/metrics", "/openapi/v1.json" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await gateway.GetAsync(new Uri(path, UriKind.Relative), Ct)).StatusCode);

            // The Host header a client sends does not open the door: the connection's port decides.
            using var spoofed = new HttpRequestMessage(HttpMethod.Get, path);
            spoofed.Headers.Host = host.ManagementAddress!.Authority;
            Assert.Equal(HttpStatusCode.NotFound, (await gateway.SendAsync(spoofed, Ct)).StatusCode);

            Assert.Equal(HttpStatusCode.OK, (await management.GetAsync(new Uri(path, UriKind.Relative), Ct)).StatusCode);
        }

        // Status alone (healthy or not: a busy machine may flap the bus check), never which dependency is down.
        using var health = await gateway.GetAsync(new Uri("/health", UriKind.Relative), Ct);
        var publicHealth = JsonDocument.Parse(await health.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.True(publicHealth.TryGetProperty("status", out _));
        Assert.False(publicHealth.TryGetProperty("checks", out _));
        using var details = await management.GetAsync(new Uri("/health", UriKind.Relative), Ct);
        var detailedHealth = JsonDocument.Parse(await details.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.True(detailedHealth.TryGetProperty("checks", out _));

        // The public API reference stays, with the routed services only.
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync(new Uri("/docs", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync(new Uri("/docs/merchant-token.json", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task Answers_through_the_gateway_are_never_cached()
    {
        var merchant = await fixture.CreateMerchantAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{merchant.Slug}/integration-keys");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", merchant.DashboardToken);
        using var keys = await fixture.Client.SendAsync(request, Ct);
        using var refused = await fixture.ListKeysAsync(merchant.Slug, null);

        foreach (var response in new[] { keys, refused })
        {
            Assert.True(response.Headers.CacheControl?.NoStore, $"{(int)response.StatusCode}: Cache-Control {response.Headers.CacheControl}");
        }
    }
}
