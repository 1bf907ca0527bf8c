using System.Net.Http.Json;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

[Collection(WebCollection.Name)]
public sealed class MembersTests(WebFixture fixture)
{
    [Fact]
    public async Task A_member_found_by_search_is_adjusted_with_a_reason_shown_in_the_history_and_exported_in_CSV()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        using var import = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/members/import")
        {
            Content = JsonContent.Create(new[] { new { name = "Ada Lovelace", email = "ada@example.fr" }, new { name = "=HYPERLINK(1)", email = "formula@example.fr" } }),
        };
        import.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        (await fixture.Client.SendAsync(import, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        await page.GotoAsync($"{fixture.Web}membres");
        await page.GetByLabel("Rechercher un membre").FillAsync("lovelace");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rechercher" }).ClickAsync();
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Link, new() { Name = "Ada Lovelace" }).ClickAsync();

        await page.GetByLabel("Points à ajouter").FillAsync("-5");
        await page.GetByLabel("Motif").FillAsync("Erreur de caisse");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer l'ajustement" }).ClickAsync();
        await Assertions.Expect(page.Locator("#delta-error")).ToContainTextAsync("Le solde ne peut pas devenir négatif");
        await Assertions.Expect(page.Locator("#reason-error")).ToBeEmptyAsync();
        await page.GetByLabel("Points à ajouter").FillAsync("15");
        await page.GetByLabel("Motif").FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer l'ajustement" }).ClickAsync();
        await Assertions.Expect(page.Locator("#reason-error")).ToContainTextAsync("Le motif est obligatoire");
        await page.GetByLabel("Motif").FillAsync("Geste commercial");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer l'ajustement" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-points]")).ToContainTextAsync("15");
        await Assertions.Expect(page.Locator("main table")).ToContainTextAsync("Geste commercial");
        await WebFixture.ScreenshotAsync(page, "member-detail");

        await page.GotoAsync($"{fixture.Web}membres");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Exporter en CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!, TestContext.Current.CancellationToken);
        Assert.Contains("\"Ada Lovelace\";\"ada@example.fr\";15;", csv, StringComparison.Ordinal);
        Assert.Contains("\"'=HYPERLINK(1)\"", csv, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_adjustment_sent_twice_or_reloaded_is_applied_once()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        using var import = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/members/import")
        {
            Content = JsonContent.Create(new[] { new { name = "Grace Hopper", email = "grace@example.fr" } }),
        };
        import.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        (await fixture.Client.SendAsync(import, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        await page.GotoAsync($"{fixture.Web}membres");
        await page.GetByRole(AriaRole.Link, new() { Name = "Grace Hopper" }).ClickAsync();

        await page.GetByLabel("Points à ajouter").FillAsync("3");
        await page.GetByLabel("Motif").FillAsync("Geste commercial");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer l'ajustement" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-points]")).ToHaveTextAsync("3 points");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-points]")).ToHaveTextAsync("3 points");

        // The same form sent twice at once (a double click on a slow line, a browser re-posting it).
        await page.GetByLabel("Points à ajouter").FillAsync("4");
        await page.GetByLabel("Motif").FillAsync("Double clic");
        await page.EvaluateAsync("""
            async () => {
                const form = document.querySelector('#delta').form;
                await Promise.all([0, 1].map(() => fetch(location.href, { method: 'POST', body: new FormData(form) })));
            }
            """);
        await page.ReloadAsync();

        await Assertions.Expect(page.Locator("[data-points]")).ToHaveTextAsync("7 points");
        await page.Context.CloseAsync();
    }
}
