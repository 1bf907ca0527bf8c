using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Gateway.IntegrationTests;
using Fidpass.Testing;
using Microsoft.Playwright;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;

namespace Fidpass.Web.BrowserTests;

/// <summary>
/// A café without a POS uses Fidpass as its till: « Encaisser » starts a card sale on a reader or a
/// cash sale on a machine with the customer's card attached, follows it live, and the day's sales on
/// « Lecteurs de carte » and « Caisse espèces » can be refunded. On a phone and on a desktop.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class SalesTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(CreatedMerchant Merchant, IPage Page)> SignedInAsync(int width, int height)
    {
        var merchant = await fixture.CreateMerchantAsync();
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "fr-FR", ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.SignInLink(merchant));
        return (merchant, page);
    }

    private async Task<HttpClient> TillAsync(CreatedMerchant merchant, params string[] scopes)
    {
        var key = await fixture.IssueKeyAsync(merchant, scopes);
        var http = new HttpClient { BaseAddress = fixture.Gateway.Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        return http;
    }

    private static async Task<string> IdOfAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").ToString();
    }

    private async Task<Guid> EnrolAsync(CreatedMerchant merchant, string name)
    {
        using var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members",
            new { name, email = ScannerTests.EmailOf(name, merchant) }, Ct);
        enrolled.EnsureSuccessStatusCode();
        return (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
    }

    private static Task DoubleClickAsync(IPage page, string name) => page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true }).DblClickAsync();

    [Theory]
    [InlineData("phone", 390, 844)]
    [InlineData("desktop", 1280, 900)]
    public async Task A_card_sale_started_from_the_web_with_a_member_is_followed_live_listed_once_and_refunded(string size, int width, int height)
    {
        var (merchant, page) = await SignedInAsync(width, height);
        using var till = await TillAsync(merchant, "terminal");
        var location = await IdOfAsync(await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/terminal/locations",
            new { displayName = "Café", line1 = "3 rue des Lilas", city = "Paris", postalCode = "75011", country = "FR" }, Ct));
        var reader = await IdOfAsync(await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/terminal/readers",
            new { registrationCode = "simulated-wpe", label = "Comptoir", locationId = location }, Ct));
        (await till.PutAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/terminal/tills/caisse-2/reader", new { readerId = reader }, Ct)).EnsureSuccessStatusCode();
        var member = await EnrolAsync(merchant, "Marie Curie");

        // « Lecteurs » says which till pays on which reader, and that nothing is on the reader yet.
        await page.GotoAsync($"{fixture.Web}lecteurs");
        await Assertions.Expect(page.Locator("[data-till='caisse-2']")).ToHaveTextAsync("La caisse « caisse-2 » encaisse sur le lecteur « Comptoir ».");
        await Assertions.Expect(page.Locator("[data-in-progress] [data-device='Comptoir']")).ToContainTextAsync("aucune vente en cours");

        await page.GotoAsync($"{fixture.Web}encaisser");
        await page.GetByLabel("Encaisser sur").SelectOptionAsync(new SelectOptionValue { Label = "Carte bancaire — lecteur « Comptoir »" });
        await page.GetByLabel("Montant (€)").FillAsync("12,50");
        await page.GetByLabel("Carte de fidélité du client (facultatif)").FillAsync(member.ToString());
        await DoubleClickAsync(page, "Encaisser");

        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/encaisser/vente/card/"));
        await Assertions.Expect(page.Locator("[data-sale-state]")).ToHaveTextAsync("En attente du client…");
        await Assertions.Expect(page.Locator("[data-sale-member]")).ToBeVisibleAsync();

        // The reader serves this sale: a second one is refused in French, and nothing is charged for it.
        var second = await page.Context.NewPageAsync();
        await second.GotoAsync($"{fixture.Web}encaisser");
        await second.GetByLabel("Encaisser sur").SelectOptionAsync(new SelectOptionValue { Label = "Carte bancaire — lecteur « Comptoir »" });
        await second.GetByLabel("Montant (€)").FillAsync("3");
        await second.GetByRole(AriaRole.Button, new() { Name = "Encaisser", Exact = true }).ClickAsync();
        await Assertions.Expect(second.Locator("[data-checkout-error]")).ToHaveTextAsync(
            "Ce lecteur encaisse déjà une autre vente. Attendez qu'elle se termine ou annulez-la, puis recommencez.");
        await WebFixture.ScreenshotAsync(second, $"checkout-reader-busy-{size}");
        await second.CloseAsync();

        // The customer taps a card; the sale page shows the outcome by itself.
        (await fixture.FakeStripe.PostAsync(new Uri($"/__fake/readers/{reader}/present?number=4242424242424242", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
        await Assertions.Expect(page.Locator("[data-sale-state]")).ToHaveTextAsync("Payé", new() { Timeout = 30_000 });
        await WebFixture.ScreenshotAsync(page, $"checkout-card-paid-{size}");
        await Eventually.True(async () => await ScannerTests.PointsAsync(fixture, merchant, member) == 12, what: "12 points from the card sale");

        await page.GotoAsync($"{fixture.Web}lecteurs");
        var rows = page.Locator("[data-card-sales] table[data-sales] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-state", "collected");
        await Assertions.Expect(rows.First).ToContainTextAsync("12,50");
        await Assertions.Expect(rows.First).ToContainTextAsync("Encaissée");
        await WebFixture.ScreenshotAsync(page, $"card-sales-{size}");

        await rows.First.GetByRole(AriaRole.Button, new() { Name = "Rembourser" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-refunded]")).ToHaveTextAsync("Remboursement de 12,50\u00a0€ envoyé sur la carte du client.");
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-state", "refunded");
        await Assertions.Expect(rows.First).ToContainTextAsync("Remboursée");
        await Eventually.True(async () => await ScannerTests.PointsAsync(fixture, merchant, member) == 0, what: "points taken back by the refund");
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData("phone", 390, 844)]
    [InlineData("desktop", 1280, 900)]
    public async Task A_cash_sale_started_from_the_web_is_paid_on_the_machine_listed_once_with_the_cash_held_and_refunded(string size, int width, int height)
    {
        await using var cash = await ConnectorSimulator.StartAsync();
        var (merchant, page) = await SignedInAsync(width, height);
        using var till = await TillAsync(merchant, "cash");
        var machines = $"/api/v1/merchants/{merchant.Slug}/cash/machines";
        var machine = await IdOfAsync(await till.PostAsJsonAsync(machines, new { name = "Caisse 1", host = "127.0.0.1", port = cash.Port, tillCode = "1", mode = "express" }, Ct));
        await IdOfAsync(await till.PostAsJsonAsync(machines, new { name = "Réserve", host = "127.0.0.1", port = ClosedPort(), tillCode = "1", mode = "express" }, Ct));
        await Eventually.True(async () => (await till.GetFromJsonAsync<JsonElement>($"{machines}/{machine}", Ct)).GetProperty("status").GetString() == "ready",
            what: "machine ready");
        var member = await EnrolAsync(merchant, "Irène Joliot");

        await page.GotoAsync($"{fixture.Web}especes");
        var held = page.Locator("[data-held='Caisse 1']");
        await Assertions.Expect(held).ToContainTextAsync("Contenu pas encore compté");
        await held.GetByRole(AriaRole.Button, new() { Name = "Recompter maintenant" }).ClickAsync();
        await Assertions.Expect(held.Locator("[data-held-total]")).ToContainTextAsync(Euros(cash.Machine.RecyclersTotal + cash.Machine.StackerTotal));

        // A machine that does not answer: refused before anything is sent, in French.
        await page.GotoAsync($"{fixture.Web}encaisser");
        await page.GetByLabel("Encaisser sur").SelectOptionAsync(new SelectOptionValue { Label = "Espèces — machine « Réserve »" });
        await page.GetByLabel("Montant (€)").FillAsync("12");
        await page.GetByRole(AriaRole.Button, new() { Name = "Encaisser", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-checkout-error]")).ToHaveTextAsync(
            "La machine espèces ne répond pas (éteinte ou déconnectée). Rien n'a été encaissé.");

        await page.GetByLabel("Encaisser sur").SelectOptionAsync(new SelectOptionValue { Label = "Espèces — machine « Caisse 1 »" });
        await page.GetByLabel("Montant (€)").FillAsync("12");
        await page.GetByLabel("Carte de fidélité du client (facultatif)").FillAsync(member.ToString());
        await DoubleClickAsync(page, "Encaisser");
        await Assertions.Expect(page.Locator("[data-sale-state]")).ToHaveTextAsync("En attente du client…");
        await Eventually.True(() => Task.FromResult(cash.State == Fidpass.CashlogySimulator.SimulatorState.Charging), what: "the Connector's payment screen");
        cash.Insert(1000, 500);
        await Assertions.Expect(page.Locator("[data-sale-state]")).ToHaveTextAsync("Payé", new() { Timeout = 30_000 });
        await WebFixture.ScreenshotAsync(page, $"checkout-cash-paid-{size}");
        await Eventually.True(async () => await ScannerTests.PointsAsync(fixture, merchant, member) == 12, what: "12 points from the cash sale");

        await page.GotoAsync($"{fixture.Web}especes");
        var rows = page.Locator("[data-cash-sales] table[data-sales] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-state", "collected");
        // The machine counted itself after the sale: the page shows its count, change given back included.
        await Assertions.Expect(held.Locator("[data-held-total]")).ToContainTextAsync(Euros(cash.Machine.RecyclersTotal + cash.Machine.StackerTotal));
        await Assertions.Expect(held.Locator("[data-piece='1000']")).ToBeVisibleAsync();
        await WebFixture.ScreenshotAsync(page, $"cash-sales-{size}");

        await rows.First.GetByRole(AriaRole.Button, new() { Name = "Rembourser" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-refunded]")).ToHaveTextAsync("Remboursement de 12,00\u00a0€ lancé : la machine rend l'argent au client.");
        await Eventually.True(async () =>
        {
            await page.ReloadAsync();
            return await rows.First.GetAttributeAsync("data-state") == "refunded";
        }, what: "the cash sale refunded");
        await Assertions.Expect(rows.First).ToContainTextAsync("Remboursée");
        await page.Context.CloseAsync();
    }

    private static string Euros(long cents) => (cents / 100m).ToString("#,##0.00", CultureInfo.GetCultureInfo("fr-FR")) + "\u00a0€";

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
