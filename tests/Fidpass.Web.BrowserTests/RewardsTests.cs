using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Gateway.IntegrationTests;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>The reward catalogue on « Programme », rewards at the till, and the programme form keeping the daily cap.</summary>
[Collection(WebCollection.Name)]
public sealed class RewardsTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task The_merchant_adds_changes_and_withdraws_rewards_on_the_programme_page(string screen)
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: screen);
        await page.GotoAsync($"{fixture.Web}programme");
        var rewards = page.Locator("[data-rewards]");
        await Assertions.Expect(rewards).ToContainTextAsync("Aucune récompense pour l'instant.");

        // Bad input is explained next to the form, and nothing is added.
        await page.GetByLabel("Nouvelle récompense").FillAsync("Café offert");
        await page.GetByLabel("Points", new() { Exact = true }).Last.FillAsync("zéro");
        await page.GetByRole(AriaRole.Button, new() { Name = "Ajouter la récompense" }).ClickAsync();
        await Assertions.Expect(page.Locator("#new-reward-error")).ToHaveTextAsync("Saisissez un nombre entier de points supérieur à 0.");
        await Assertions.Expect(page.GetByLabel("Nouvelle récompense")).ToHaveValueAsync("Café offert");

        await page.GetByLabel("Points", new() { Exact = true }).Last.FillAsync("10");
        await page.GetByRole(AriaRole.Button, new() { Name = "Ajouter la récompense" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Récompense ajoutée");
        await Assertions.Expect(page.Locator("li[data-reward='Café offert']")).ToHaveCountAsync(1);

        // Post/redirect/get: reloading the page after adding sends nothing again.
        Assert.Equal($"{fixture.Web}programme", page.Url);
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("li[data-reward]")).ToHaveCountAsync(1);
        Assert.Equal(["Café offert:10"], await CatalogueAsync(merchant));

        await page.GetByLabel("Nouvelle récompense").FillAsync("Menu offert");
        await page.GetByLabel("Points", new() { Exact = true }).Last.FillAsync("100");
        await page.GetByRole(AriaRole.Button, new() { Name = "Ajouter la récompense" }).ClickAsync();
        await Assertions.Expect(page.Locator("li[data-reward]")).ToHaveCountAsync(2);

        var coffee = page.Locator("li[data-reward='Café offert']");
        await coffee.GetByLabel("Récompense").FillAsync("Grand café offert");
        await coffee.GetByLabel("Points").FillAsync("12");
        await coffee.GetByRole(AriaRole.Button, new() { Name = "Modifier « Café offert »" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Récompense modifiée.");
        await Assertions.Expect(page.Locator("li[data-reward='Grand café offert']")).ToHaveCountAsync(1);
        await WebFixture.ScreenshotAsync(page, $"programme-recompenses-{screen}");

        await page.GetByRole(AriaRole.Button, new() { Name = "Retirer « Menu offert »" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Récompense retirée du catalogue.");
        await Assertions.Expect(page.Locator("li[data-reward]")).ToHaveCountAsync(1);
        Assert.Equal(["Grand café offert:12"], await CatalogueAsync(merchant));
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task The_till_offers_the_rewards_the_member_can_take_and_redeems_one_in_a_tap(string screen)
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: screen);
        await AddRewardAsync(merchant, "Café offert", 10);
        await AddRewardAsync(merchant, "Menu offert", 50);
        var memberId = await EnrolAsync(merchant, "Marie Curie");
        await page.GotoAsync($"{fixture.Web}caisse");

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(memberId.ToString());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("15");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("15");

        // The credited member's rewards: the coffee is within reach, the menu is 35 points away.
        var offer = page.Locator("[data-till-rewards]");
        await Assertions.Expect(offer).ToContainTextAsync("Récompenses de Marie Curie (15 points)");
        await Assertions.Expect(offer.Locator("[data-next-reward]")).ToHaveTextAsync("Prochaine : Menu offert, encore 35 point(s).");
        var coffee = page.GetByRole(AriaRole.Button, new() { Name = "Offrir Café offert (10 pts)" });
        await Assertions.Expect(coffee).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Offrir Menu offert (50 pts)" })).ToHaveCountAsync(0);
        if (screen == WebFixture.Phone)
        {
            Assert.Equal(0, await page.EvaluateAsync<int>("() => window.scrollY"));
            foreach (var element in new[]
            {
                page.GetByLabel("Carte du client (code ou e-mail)"), page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }),
                page.Locator(".result"), coffee,
            })
            {
                var box = await element.BoundingBoxAsync();
                Assert.NotNull(box);
                Assert.True(box.Y >= 0 && box.Y + box.Height <= 844 && box.X >= 0 && box.X + box.Width <= 390,
                    $"{element} is at ({box.X}, {box.Y}) size {box.Width}×{box.Height}, outside the 390×844 screen");
            }
        }

        await coffee.ClickAsync();
        var result = page.Locator("[data-redeemed]");
        await Assertions.Expect(result).ToContainTextAsync("Marie Curie a reçu : Café offert.");
        await Assertions.Expect(result).ToContainTextAsync("−10 points");
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("5");
        await Assertions.Expect(offer).ToContainTextAsync("Récompenses de Marie Curie (5 points)");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Offrir Café offert (10 pts)" })).ToHaveCountAsync(0);
        await WebFixture.ScreenshotAsync(page, $"caisse-recompense-{screen}");
        Assert.Equal(5, await ScannerTests.PointsAsync(fixture, merchant, memberId));

        // A reload shows the result again and redeems nothing more; a redemption offers no undo.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("5");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Annuler le crédit de Marie Curie" })).ToHaveCountAsync(0);
        Assert.Equal(5, await ScannerTests.PointsAsync(fixture, merchant, memberId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_rewards_button_identifies_a_card_without_crediting()
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: WebFixture.Phone);
        await AddRewardAsync(merchant, "Croissant offert", 3);
        var memberId = await EnrolAsync(merchant, "Lise Meitner");
        await CreditAsync(merchant, memberId, 4);
        await page.GotoAsync($"{fixture.Web}caisse");

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(ScannerTests.EmailOf("Lise Meitner", merchant));
        await page.GetByRole(AriaRole.Button, new() { Name = "Récompenses", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-till-rewards]")).ToContainTextAsync("Récompenses de Lise Meitner (4 points)");
        Assert.Equal(4, await ScannerTests.PointsAsync(fixture, merchant, memberId));

        await page.GetByRole(AriaRole.Button, new() { Name = "Offrir Croissant offert (3 pts)" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("1");
        Assert.Equal(1, await ScannerTests.PointsAsync(fixture, merchant, memberId));

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(Guid.NewGuid().ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Récompenses", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#code-error")).ToContainTextAsync("Carte inconnue");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Saving_the_programme_form_keeps_the_daily_cap_set_through_the_api()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        using (var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/merchants/{merchant.Slug}/program"))
        {
            put.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
            put.Content = JsonContent.Create(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, maxPointsPerMemberPerDay = 40 });
            (await fixture.Client.SendAsync(put, Ct)).EnsureSuccessStatusCode();
        }

        await page.GotoAsync($"{fixture.Web}programme");
        await page.GetByLabel("Points par euro").FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Règles enregistrées");

        var program = await ProgramAsync(merchant);
        Assert.Equal(2, program.GetProperty("pointsPerEuro").GetInt64());
        Assert.Equal(40, program.GetProperty("maxPointsPerMemberPerDay").GetInt64());
        await page.Context.CloseAsync();
    }

    private async Task<JsonElement> ProgramAsync(CreatedMerchant merchant) => await SendAsync(HttpMethod.Get, merchant, "program", null);

    private async Task<string[]> CatalogueAsync(CreatedMerchant merchant) =>
        [.. (await SendAsync(HttpMethod.Get, merchant, "program/rewards", null)).GetProperty("items").EnumerateArray()
            .Select(r => $"{r.GetProperty("name").GetString()}:{r.GetProperty("points").GetInt64()}")];

    private async Task AddRewardAsync(CreatedMerchant merchant, string name, long points) =>
        await SendAsync(HttpMethod.Post, merchant, "program/rewards", new { name, points });

    private async Task CreditAsync(CreatedMerchant merchant, Guid memberId, long points) =>
        await SendAsync(HttpMethod.Post, merchant, "scans", new { barcode = memberId.ToString(), points });

    private async Task<JsonElement> SendAsync(HttpMethod method, CreatedMerchant merchant, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, $"/api/v1/merchants/{merchant.Slug}/{path}");
        request.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await fixture.Client.SendAsync(request, Ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private Task<Guid> EnrolAsync(CreatedMerchant merchant, string name) => ScannerTests.EnrolAsync(fixture, merchant, name);
}
