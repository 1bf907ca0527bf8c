using System.Net.Http.Json;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

[Collection(WebCollection.Name)]
public sealed class ExpiryDisplayTests(WebFixture fixture)
{
    [Fact]
    public async Task Expiry_set_in_the_programme_form_shows_on_the_member_page_with_the_points_expiring_next()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        await page.GotoAsync($"{fixture.Web}programme");
        await page.GetByLabel("Points par euro").FillAsync("1");
        await page.GetByLabel("Points par passage").FillAsync("0");
        await page.GetByLabel("Les points expirent").SelectOptionAsync("inactivity");
        await page.GetByLabel("Nombre de mois").FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer" }).ClickAsync();
        await Assertions.Expect(page.Locator("#ExpiryMonths-error")).ToContainTextAsync("de 1 à 120");
        await page.GetByLabel("Nombre de mois").FillAsync("6");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Règles enregistrées")).ToBeVisibleAsync();
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByLabel("Les points expirent")).ToHaveValueAsync("inactivity");
        await Assertions.Expect(page.GetByLabel("Nombre de mois")).ToHaveValueAsync("6");

        using var import = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/members/import")
        {
            Content = JsonContent.Create(new[] { new { name = "Marie Curie", email = "marie@example.fr" } }),
        };
        import.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        (await fixture.Client.SendAsync(import, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        await page.GotoAsync($"{fixture.Web}membres");
        await page.GetByRole(AriaRole.Link, new() { Name = "Marie Curie" }).ClickAsync();
        await page.GetByLabel("Points à ajouter").FillAsync("12");
        await page.GetByLabel("Motif").FillAsync("Bienvenue");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer l'ajustement" }).ClickAsync();

        await Assertions.Expect(page.Locator("[data-points]")).ToHaveTextAsync("12 points");
        await Assertions.Expect(page.Locator("[data-next-expiry]")).ToContainTextAsync("Dont 12 point(s) qui expirent le ");
        await page.Context.CloseAsync();
    }
}
