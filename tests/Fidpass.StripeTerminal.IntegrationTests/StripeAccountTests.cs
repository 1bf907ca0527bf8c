using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>Where card money goes is the merchant's decision only, and each change is kept in the merchant's history.</summary>
public sealed class StripeAccountTests(StripeTerminalFixture fixture) : IClassFixture<StripeTerminalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_integration_key_even_with_every_scope_cannot_redirect_card_money()
    {
        var merchant = await fixture.NewMerchantAsync("lookup scan program members terminal cash");

        using var refused = await merchant.Http.PutAsJsonAsync(merchant.Route("stripe-account"), new { accountId = "acct_1Integrateur" }, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("owner_required", (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("code").GetString());
        var account = await merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("stripe-account"), Ct);
        Assert.Equal(JsonValueKind.Null, account.GetProperty("accountId").ValueKind);
        Assert.Empty(account.GetProperty("history").EnumerateArray());
    }

    [Fact]
    public async Task The_merchant_changes_the_account_with_the_dashboard_token_or_a_web_session_and_each_change_is_recorded()
    {
        var merchant = await fixture.NewMerchantAsync();
        using var byToken = await merchant.Dashboard.PutAsJsonAsync(merchant.Route("stripe-account"), new { accountId = "acct_1Premier" }, Ct);
        Assert.Equal(HttpStatusCode.OK, byToken.StatusCode);

        var token = merchant.Dashboard.DefaultRequestHeaders.GetValues("X-Dashboard-Token").Single();
        using var opened = await merchant.Dashboard.PostAsJsonAsync("/api/v1/sessions", new { token }, Ct);
        var session = fixture.Remember((await opened.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("session").GetString()!);
        using var web = new HttpClient { BaseAddress = fixture.Gateway.Address };
        web.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session);
        using var bySession = await web.PutAsJsonAsync(merchant.Route("stripe-account"), new { accountId = "acct_1Second" }, Ct);
        Assert.Equal(HttpStatusCode.OK, bySession.StatusCode);

        var account = await merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("stripe-account"), Ct);
        Assert.Equal("acct_1Second", account.GetProperty("accountId").GetString());
        var history = account.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(2, history.Count);
        Assert.Equal([JsonValueKind.Null, JsonValueKind.String], history.Select(h => h.GetProperty("previousAccountId").ValueKind));
        Assert.Equal(["acct_1Premier", "acct_1Second"], history.Select(h => h.GetProperty("accountId").GetString()));
        Assert.Equal(["dashboard_token", "session"], history.Select(h => h.GetProperty("credentialKind").GetString()));
        Assert.All(history, h => Assert.NotEqual(Guid.Empty, h.GetProperty("credentialId").GetGuid()));
        Assert.DoesNotContain(token, account.GetRawText(), StringComparison.Ordinal);
    }
}
