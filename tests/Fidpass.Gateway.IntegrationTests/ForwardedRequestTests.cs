using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>The gateway with an echo server as loyalty: what a service really receives from it.</summary>
public sealed class EchoFixture : GatewayFixture
{
    private WebApplication _echo = null!;

    protected override async Task StartServicesAsync()
    {
        await base.StartServicesAsync();
        _echo = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0"]).Build();
        _echo.MapGet("/alive", () => "ok");
        _echo.Map("/{**path}", (HttpRequest request) => Results.Json(new
        {
            query = request.QueryString.Value,
            headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
        }));
        await _echo.StartAsync();
        PointCluster("loyalty", new Uri(_echo.Urls.First()));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _echo.DisposeAsync();
    }
}

public sealed class ForwardedRequestTests(EchoFixture fixture) : IClassFixture<EchoFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_token_in_the_query_under_any_spelling_authenticates_and_never_reaches_the_service()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var token = merchant.DashboardToken;
        foreach (var name in new[] { "token", "TOKEN", "%74oken", "t%6Fken" })
        {
            var seen = await ForwardedAsync($"/api/businesses/{merchant.Slug}/integration/lookup?barcode=a&{name}={Uri.EscapeDataString(token)}&visit=1", null);

            Assert.Equal("?barcode=a&visit=1", seen.Query);
            Assert.DoesNotContain(seen.Headers.Values, value => value.Contains(token, StringComparison.Ordinal));
            Assert.Equal(merchant.Id.ToString(), seen.Headers["x-fidpass-merchant-id"]);
            Assert.Equal("dashboard_token", seen.Headers["x-fidpass-credential-kind"]);
        }

        // A query without any credential is forwarded as it came.
        var key = await fixture.IssueKeyAsync(merchant, "scan", "lookup");
        var plain = await ForwardedAsync($"/api/businesses/{merchant.Slug}/integration/lookup?barcode=a%20b&tokens_left=3", key.Key);
        Assert.Equal("?barcode=a%20b&tokens_left=3", plain.Query);

        // Nor does it reach a log line or a span, whatever the spelling (both hosts log into the capture).
        foreach (var secret in fixture.Secrets)
        {
            Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(fixture.Activities.Spans, span => span.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_service_gets_the_gateway_s_identity_headers_only_and_no_credential()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, "scan", "lookup");

        var seen = await ForwardedAsync($"/api/v1/merchants/{merchant.Slug}/program", key.Key, request =>
        {
            request.Headers.Add("X-Fidpass-Scopes", "lookup scan program members terminal cash");
            request.Headers.Add("X-Fidpass-Credential-Kind", "dashboard_token");
            request.Headers.Add("x-fidpass-anything", "spoofed");
        });

        Assert.False(seen.Headers.ContainsKey("authorization"));
        Assert.False(seen.Headers.ContainsKey("x-fidpass-anything"));
        Assert.Equal(merchant.Id.ToString(), seen.Headers["x-fidpass-merchant-id"]);
        Assert.Equal(merchant.Slug, seen.Headers["x-fidpass-merchant-slug"]);
        Assert.Equal("integration_key", seen.Headers["x-fidpass-credential-kind"]);
        Assert.Equal("lookup scan", seen.Headers["x-fidpass-scopes"]);
        Assert.Equal(key.Id.ToString(), seen.Headers["x-fidpass-credential-id"]);
        Assert.DoesNotContain(seen.Headers.Values, value => value.Contains(key.Key, StringComparison.Ordinal));

        // Public enrolment: the merchant is named, nobody is signed in, and another merchant's credential sent anyway is dropped.
        var other = await fixture.CreateMerchantAsync();
        using var enrol = new HttpRequestMessage(HttpMethod.Post, $"/api/businesses/{merchant.Slug}/members") { Content = JsonContent.Create(new { name = "A", email = "a@example.fr" }) };
        enrol.Headers.Add("X-Dashboard-Token", other.DashboardToken);
        using var enrolled = await fixture.Client.SendAsync(enrol, Ct);
        var anonymous = Echo.From(await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct));
        Assert.Equal("anonymous", anonymous.Headers["x-fidpass-credential-kind"]);
        Assert.Equal(merchant.Id.ToString(), anonymous.Headers["x-fidpass-merchant-id"]);
        Assert.Equal("", anonymous.Headers["x-fidpass-scopes"]);
        Assert.False(anonymous.Headers.ContainsKey("x-dashboard-token"));
        Assert.False(anonymous.Headers.ContainsKey("x-fidpass-credential-id"));

        // The merchant's own kiosk on the public route is identified (an existing member is answered to it), its secret still kept.
        using var kioskEnrol = new HttpRequestMessage(HttpMethod.Post, $"/api/businesses/{merchant.Slug}/members") { Content = JsonContent.Create(new { name = "A", email = "a@example.fr" }) };
        kioskEnrol.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        using var kioskEnrolled = await fixture.Client.SendAsync(kioskEnrol, Ct);
        var kiosk = Echo.From(await kioskEnrolled.Content.ReadFromJsonAsync<JsonElement>(Ct));
        Assert.Equal("dashboard_token", kiosk.Headers["x-fidpass-credential-kind"]);
        Assert.False(kiosk.Headers.ContainsKey("x-dashboard-token"));
    }

    private async Task<Echo> ForwardedAsync(string path, string? bearer, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        configure?.Invoke(request);
        using var response = await fixture.Client.SendAsync(request, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        return Echo.From(await response.Content.ReadFromJsonAsync<JsonElement>(Ct));
    }

    private sealed record Echo(string Query, Dictionary<string, string> Headers)
    {
        public static Echo From(JsonElement body) => new(
            body.GetProperty("query").GetString() ?? "",
            body.GetProperty("headers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal));
    }
}
