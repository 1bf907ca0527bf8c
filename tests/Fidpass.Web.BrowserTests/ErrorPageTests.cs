using Fidpass.Testing;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>What a merchant sees when a session ends or a page does not exist (issue 22): French pages, never raw JSON.</summary>
[Collection(WebCollection.Name)]
public sealed class ErrorPageTests(WebFixture fixture)
{
    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task An_ended_session_signs_the_merchant_out_with_the_french_explanation_even_when_crediting(string screen)
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: screen);
        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(Guid.NewGuid().ToString());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("3");
        await fixture.EndSessionsAsync(merchant);

        // Gateways drop an ended session within seconds: the merchant's next credit meets it.
        await Eventually.True(async () =>
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
            await page.WaitForLoadStateAsync();
            return page.Url.Contains("session=expiree", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20), "the till's credit met the ended session");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Votre session a expiré ou a été fermée. Reconnectez-vous avec votre lien de connexion.");
        await Assertions.Expect(page.Locator("body")).Not.ToContainTextAsync("\"status\"");
        await WebFixture.ScreenshotAsync(page, $"session-expiree-{screen}");

        // Signed out: the other pages ask for the sign-in link, in French.
        var members = await page.GotoAsync($"{fixture.Web}membres");
        Assert.StartsWith($"{fixture.Web}?", page.Url, StringComparison.Ordinal);
        Assert.Equal("text/html; charset=utf-8", await members!.HeaderValueAsync("content-type"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Connexion à votre espace Fidpass");
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task Unknown_pages_and_unknown_members_show_the_french_not_found_page(string screen)
    {
        var (_, page) = await fixture.SignedInAsync(screen: screen);
        foreach (var path in new[] { "nimportequoi", $"membres/{Guid.NewGuid()}", "membres/pas-un-identifiant" })
        {
            var response = await page.GotoAsync($"{fixture.Web}{path}");
            Assert.Equal(404, response!.Status);
            Assert.Equal("text/html; charset=utf-8", await response.HeaderValueAsync("content-type"));
            await Assertions.Expect(page).ToHaveTitleAsync("Page introuvable · Fidpass");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Page introuvable");
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Retour à l'accueil" })).ToBeVisibleAsync();
        }

        await WebFixture.ScreenshotAsync(page, $"page-introuvable-{screen}");
        await page.Context.CloseAsync();
    }
}
