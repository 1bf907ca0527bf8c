using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

[Collection(WebCollection.Name)]
public sealed class SignInTests(WebFixture fixture)
{
    [Fact]
    public async Task The_sign_in_link_opens_the_merchant_space_with_a_session_cookie_and_the_token_gone_from_the_URL()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "fr-FR" });
        var page = await context.NewPageAsync();
        var responses = new List<IResponse>();
        page.Response += (_, r) => responses.Add(r);

        await page.GotoAsync(fixture.SignInLink(merchant));

        Assert.Equal($"{fixture.Web}caisse", page.Url);
        Assert.DoesNotContain(merchant.DashboardToken, page.Url, StringComparison.Ordinal);
        Assert.All(responses, r => Assert.Equal("no-referrer", r.Headers.GetValueOrDefault("referrer-policy")));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Caisse rapide / Scanner", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".merchant")).ToHaveTextAsync(merchant.Name);

        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "fidpass_session");
        Assert.True(cookie.HttpOnly);
        Assert.True(cookie.Secure);
        Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);
        Assert.DoesNotContain(merchant.DashboardToken, cookie.Value, StringComparison.Ordinal);
        Assert.Empty(await page.EvaluateAsync<string>("document.cookie"));
        await WebFixture.ScreenshotAsync(page, "signed-in-scanner");

        await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Vous êtes déconnecté");
        await page.GotoAsync($"{fixture.Web}caisse");
        Assert.StartsWith($"{fixture.Web}?retour=", page.Url, StringComparison.Ordinal);
        await context.CloseAsync();
    }

    [Fact]
    public async Task An_invalid_or_replaced_link_is_explained_in_French_without_the_token_in_the_URL()
    {
        var merchant = await fixture.CreateMerchantAsync();
        using var regenerate = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/dashboard-token");
        regenerate.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        (await fixture.Client.SendAsync(regenerate, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "fr-FR" });
        var page = await context.NewPageAsync();

        // The replaced token stops working within the gateway's negative cache and introspection cache.
        await Fidpass.Testing.Eventually.True(async () =>
        {
            await page.GotoAsync(fixture.SignInLink(merchant));
            return page.Url.EndsWith("/?lien=invalide", StringComparison.Ordinal);
        }, what: "the old link refused");

        Assert.DoesNotContain(merchant.DashboardToken, page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("n'est pas (ou plus) valide");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "fidpass_session");
        await WebFixture.ScreenshotAsync(page, "sign-in-invalid-link");
        await context.CloseAsync();
    }
}
