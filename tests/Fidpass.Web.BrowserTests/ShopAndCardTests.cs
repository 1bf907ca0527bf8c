using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Gateway.IntegrationTests;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>
/// What customers see of the shop (« Mon commerce »: name, colours, logo) on the enrolment page with
/// its privacy notice and on the card, which opens offline once seen and carries a short code the
/// till accepts; unknown shops and cards get a clear 404 page, never a fake card.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class ShopAndCardTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A real 4×4 PNG.</summary>
    private static readonly byte[] Logo = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGM4YaMBRwzEcQDxwxLBXOwG1wAAAABJRU5ErkJggg==");

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task The_merchant_brands_the_shop_and_the_enrolment_page_shows_it_with_a_privacy_notice(string screen)
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: screen);
        await page.GotoAsync($"{fixture.Web}commerce");

        // A file that is no PNG: refused in French, nothing saved.
        await page.GetByLabel("Nom du commerce affiché aux clients").FillAsync("Pas enregistré");
        await page.GetByLabel("Logo (image PNG, 64 Ko au plus)").SetInputFilesAsync(new FilePayload { Name = "logo.png", MimeType = "image/png", Buffer = "GIF89a"u8.ToArray() });
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Le logo doit être une image PNG valide.");

        await page.GetByLabel("Nom du commerce affiché aux clients").FillAsync("Café des Lilas");
        await page.GetByLabel("Couleur de fond").FillAsync("#f5e6c8");
        await page.GetByLabel("Logo (image PNG, 64 Ko au plus)").SetInputFilesAsync(new FilePayload { Name = "logo.png", MimeType = "image/png", Buffer = Logo });
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Enregistré");
        Assert.Equal($"{fixture.Web}commerce", page.Url);
        await Assertions.Expect(page.Locator("[data-shop-name]")).ToHaveTextAsync("Café des Lilas");
        await WebFixture.ScreenshotAsync(page, $"mon-commerce-{screen}");

        var customer = await (await fixture.Browser.NewContextAsync(WebFixture.ContextOptions(screen))).NewPageAsync();
        await customer.GotoAsync($"{fixture.Web}inscription/{merchant.Slug}");
        await Assertions.Expect(customer.Locator("[data-shop-name]")).ToHaveTextAsync("Café des Lilas");
        await Assertions.Expect(customer.Locator("[data-shop-banner]")).ToHaveCSSAsync("background-color", "rgb(245, 230, 200)");
        await Assertions.Expect(customer.Locator("[data-shop-banner]")).ToHaveCSSAsync("color", "rgb(0, 0, 0)");
        var logo = customer.GetByAltText("Logo de Café des Lilas");
        await Assertions.Expect(logo).ToBeVisibleAsync();
        await Assertions.Expect(logo).ToHaveJSPropertyAsync("naturalWidth", 4);
        var privacy = customer.Locator("[data-privacy]");
        await Assertions.Expect(privacy).ToContainTextAsync("Café des Lilas conserve votre nom, votre adresse e-mail et l'historique de vos points");
        await Assertions.Expect(privacy).ToContainTextAsync("pour gérer votre carte de fidélité");
        await Assertions.Expect(privacy).ToContainTextAsync("tant que votre carte existe");
        await Assertions.Expect(privacy).ToContainTextAsync("droit à l'effacement");
        await Assertions.Expect(privacy.GetByRole(AriaRole.Link, new() { Name = merchant.Email })).ToHaveAttributeAsync("href", $"mailto:{merchant.Email}");
        await WebFixture.ScreenshotAsync(customer, $"inscription-commerce-{screen}");
        await customer.Context.CloseAsync();
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task An_unknown_shop_or_card_is_a_clear_404_page_without_any_card(string screen)
    {
        var merchant = await fixture.CreateMerchantAsync();
        var page = await (await fixture.Browser.NewContextAsync(WebFixture.ContextOptions(screen))).NewPageAsync();

        var shop = await page.GotoAsync($"{fixture.Web}inscription/aucun-commerce-ici");
        Assert.Equal((int)HttpStatusCode.NotFound, shop!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Commerce introuvable");
        await Assertions.Expect(page.Locator("form#enrol")).ToHaveCountAsync(0);
        await WebFixture.ScreenshotAsync(page, $"commerce-introuvable-{screen}");

        var card = await page.GotoAsync($"{fixture.Web}carte/{merchant.Slug}/{Guid.NewGuid()}");
        Assert.Equal((int)HttpStatusCode.NotFound, card!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Carte introuvable");
        await Assertions.Expect(page.Locator(".qr")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-card-balance]")).ToHaveCountAsync(0);
        await WebFixture.ScreenshotAsync(page, $"carte-introuvable-{screen}");
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task The_card_opens_offline_with_its_QR_code_and_last_known_balance(string screen)
    {
        var merchant = await fixture.CreateMerchantAsync("Boulangerie Hors Ligne");
        var member = await EnrolAsync(merchant, "Louise Michel");
        var key = await fixture.IssueKeyAsync(merchant, "scan");
        await TodayAndCardTests.ScanAsync(fixture, merchant, key.Key, member, "9.00");

        var context = await fixture.Browser.NewContextAsync(WebFixture.ContextOptions(screen));
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.Web}carte/{merchant.Slug}/{member}");
        await Assertions.Expect(page.Locator("[data-card-balance]")).ToHaveTextAsync("9");
        var code = await page.Locator("[data-card-code]").TextContentAsync();
        Assert.Matches("^[2-9A-HJ-NP-Z]{4} [2-9A-HJ-NP-Z]{4}$", code);
        await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("data-offline-ready", "true", new() { Timeout = 30_000 });

        // Without the worker, an offline reload is the browser's own error page.
        await context.SetOfflineAsync(true);
        await page.ReloadAsync();

        await Assertions.Expect(page.Locator(".qr svg")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-card-balance]")).ToHaveTextAsync("9");
        await Assertions.Expect(page.Locator("[data-card-code]")).ToHaveTextAsync(code!);
        await Assertions.Expect(page.Locator("[data-card-stale]")).ToContainTextAsync("Hors ligne, solde du ");
        await Assertions.Expect(page.Locator("[data-shop-name]")).ToHaveTextAsync("Boulangerie Hors Ligne");
        await WebFixture.ScreenshotAsync(page, $"carte-hors-ligne-{screen}");
        await context.CloseAsync();
    }

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task A_short_code_typed_at_the_till_credits_the_member_it_belongs_to(string screen)
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: screen);
        var other = await EnrolAsync(merchant, "Autre Membre");
        var member = await EnrolAsync(merchant, "Rosalind Franklin");
        var code = await ShortCodeAsync(merchant, member);

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(code.ToLowerInvariant());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("4,00");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();

        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Rosalind Franklin");
        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("+4 points");
        Assert.Equal(4, await ScannerTests.PointsAsync(fixture, merchant, member));
        Assert.Equal(0, await ScannerTests.PointsAsync(fixture, merchant, other));
        await WebFixture.ScreenshotAsync(page, $"caisse-code-court-{screen}");
        await page.Context.CloseAsync();
    }

    private Task<Guid> EnrolAsync(CreatedMerchant merchant, string name) => TodayAndCardTests.EnrolAsync(fixture, merchant, name);

    /// <summary>The code the member's card shows (the public card route, as the card page reads it).</summary>
    private async Task<string> ShortCodeAsync(CreatedMerchant merchant, Guid member)
    {
        var card = await fixture.Client.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/cards/{member}", Ct);
        return card.GetProperty("member").GetProperty("shortCode").GetString()!;
    }
}
