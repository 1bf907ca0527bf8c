using System.Net;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

[Collection(WebCollection.Name)]
public sealed class IntegrationPageTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_key_created_with_scopes_is_shown_once_works_at_the_gateway_and_stops_working_once_revoked()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        await page.GotoAsync($"{fixture.Web}integration");

        await page.GetByRole(AriaRole.Button, new() { Name = "Créer la clé" }).ClickAsync();
        await Assertions.Expect(page.Locator("#key-name-error")).ToContainTextAsync("Donnez un nom à la clé");

        await page.GetByLabel("Nom de la clé").FillAsync("Caisse comptoir");
        await page.GetByLabel("Afficher un client").UncheckAsync();
        await page.GetByLabel("Créditer des points").UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Créer la clé" }).ClickAsync();
        await Assertions.Expect(page.Locator("#scope-error")).ToHaveTextAsync("Choisissez au moins une permission.");

        await page.GetByLabel("Afficher un client").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Créer la clé" }).ClickAsync();
        var key = (await page.Locator("[data-new-key]").TextContentAsync())!.Trim();
        Assert.StartsWith("fpk_", key, StringComparison.Ordinal);
        fixture.Remember(key);
        await Assertions.Expect(page.Locator("tr[data-key='Caisse comptoir']")).ToContainTextAsync("Afficher un client");
        await WebFixture.ScreenshotAsync(page, "integration-key-created");
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await LookupAsync(merchant.Slug, key));

        await page.GotoAsync($"{fixture.Web}integration");
        await Assertions.Expect(page.Locator("[data-new-key]")).ToHaveCountAsync(0);
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Button, new() { Name = "Révoquer la clé Caisse comptoir" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Oui, révoquer « Caisse comptoir »" }).ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-key='Caisse comptoir']")).ToHaveCountAsync(0);
        await Fidpass.Testing.Eventually.True(async () => await LookupAsync(merchant.Slug, key) == HttpStatusCode.Unauthorized, what: "the revoked key refused");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Reloading_the_page_after_creating_a_key_creates_no_second_key_and_no_longer_shows_the_first()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        await page.GotoAsync($"{fixture.Web}integration");
        await page.GetByLabel("Nom de la clé").FillAsync("Borne entrée");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créer la clé" }).ClickAsync();
        var key = (await page.Locator("[data-new-key]").TextContentAsync())!.Trim();
        Assert.StartsWith("fpk_", key, StringComparison.Ordinal);
        fixture.Remember(key);
        Assert.DoesNotContain(key, page.Url, StringComparison.Ordinal);
        Assert.Equal($"{fixture.Web}integration", page.Url);

        // The browser shows the page of a GET: reloading it re-sends no form.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("tr[data-key='Borne entrée']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-new-key]")).ToHaveCountAsync(0);
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);
        await WebFixture.ScreenshotAsync(page, "integration-key-reloaded");

        using var keys = await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken);
        var listed = System.Text.Json.JsonDocument.Parse(await keys.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(1, listed.EnumerateArray().Count(k => k.GetProperty("name").GetString() == "Borne entrée"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Copy_link_puts_the_public_integrator_page_on_the_clipboard_and_that_page_documents_the_merchant_routes()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = fixture.Web.ToString().TrimEnd('/') });
        await page.GotoAsync($"{fixture.Web}integration");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Comment ça se passe ?" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Copier le lien" }).ClickAsync();
        await Assertions.Expect(page.Locator("#copy-status")).ToContainTextAsync("Lien copié");
        var copied = await page.EvaluateAsync<string>("navigator.clipboard.readText()");
        Assert.Equal($"{fixture.Web}integrateurs/{merchant.Slug}", copied);
        await Assertions.Expect(page.Locator("pre").Last).ToContainTextAsync($"/api/v1/merchants/{merchant.Slug}/scans");
        await WebFixture.ScreenshotAsync(page, "integration-page");

        // The integrator is not signed in.
        var stranger = await fixture.Browser.NewPageAsync();
        await stranger.GotoAsync(copied);
        await Assertions.Expect(stranger.GetByRole(AriaRole.Heading, new() { Name = "Fidpass : guide de l'intégrateur" })).ToBeVisibleAsync();
        await Assertions.Expect(stranger.GetByRole(AriaRole.Link, new() { Name = "Référence complète de l'API (OpenAPI)" }))
            .ToHaveAttributeAsync("href", $"{fixture.Gateway.Address.ToString().TrimEnd('/')}/docs");
        await Assertions.Expect(stranger.Locator("main")).ToContainTextAsync($"/api/businesses/{merchant.Slug}/integration/lookup");
        await Assertions.Expect(stranger.Locator("main")).ToContainTextAsync("MEMBER_NOT_FOUND");
        await WebFixture.ScreenshotAsync(stranger, "integrator-public-page");
        await stranger.CloseAsync();
        await page.Context.CloseAsync();
    }

    private async Task<HttpStatusCode> LookupAsync(string slug, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/businesses/{slug}/integration/lookup?barcode={Guid.NewGuid()}");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var response = await fixture.Client.SendAsync(request, Ct);
        return response.StatusCode;
    }
}
