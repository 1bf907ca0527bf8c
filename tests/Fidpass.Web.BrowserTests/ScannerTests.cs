using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Gateway.IntegrationTests;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

[Collection(WebCollection.Name)]
public sealed class ScannerTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task Typing_a_card_code_and_an_amount_credits_the_member_shows_the_new_balance_and_can_be_undone(string screen)
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: screen);
        var memberId = await EnrolAsync(merchant, "Marie Curie");

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync($" {memberId.ToString().ToUpperInvariant()} ");
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("12,50");
        // A hardware scanner types the code then Enter.
        await page.GetByLabel("Carte du client (code ou e-mail)").PressAsync("Enter");

        var result = page.Locator(".result");
        await Assertions.Expect(result).ToContainTextAsync("Marie Curie");
        await Assertions.Expect(result).ToContainTextAsync("+12 points");
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("12");
        Assert.Equal(12, await PointsAsync(merchant, memberId));
        await WebFixture.ScreenshotAsync(page, $"caisse-credit-{screen}");

        // Post/redirect/get: the result is a page of its own; reloading it shows it again and sends nothing.
        Assert.Equal($"{fixture.Web}caisse", page.Url);
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("12");
        Assert.Equal(12, await PointsAsync(merchant, memberId));

        // Undo names the member whose credit it cancels.
        await page.GetByRole(AriaRole.Button, new() { Name = "Annuler le crédit de Marie Curie" }).ClickAsync();
        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Crédit de Marie Curie annulé.");
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("0");
        Assert.Equal(0, await PointsAsync(merchant, memberId));
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Crédit de Marie Curie annulé.");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Annuler le crédit de Marie Curie" })).ToHaveCountAsync(0);
        Assert.Equal(0, await PointsAsync(merchant, memberId));

        // The history shows both, signed; the cancelled credit was no visit.
        await page.GotoAsync($"{fixture.Web}membres/{memberId}");
        await Assertions.Expect(page.Locator("tr", new() { HasText = "Points crédités" })).ToContainTextAsync("points : +12");
        await Assertions.Expect(page.Locator("tr", new() { HasText = "Crédit annulé" })).ToContainTextAsync("points : −12");
        await WebFixture.ScreenshotAsync(page, $"membre-historique-{screen}");
        await page.GotoAsync($"{fixture.Web}membres");
        await Assertions.Expect(page.Locator("tr", new() { HasText = "Marie Curie" }).Locator("td").Nth(3)).ToHaveTextAsync("—");
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task A_refused_credit_keeps_the_previous_operation_and_its_undo(string screen)
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: screen);
        var memberId = await EnrolAsync(merchant, "Irène Joliot");
        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(memberId.ToString());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("9");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("9");

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(Guid.NewGuid().ToString());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("4");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#code-error")).ToContainTextAsync("Carte inconnue");
        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Irène Joliot");
        await page.GetByRole(AriaRole.Button, new() { Name = "Annuler le crédit de Irène Joliot" }).ClickAsync();
        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Crédit de Irène Joliot annulé.");
        Assert.Equal(0, await PointsAsync(merchant, memberId));
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task A_card_scanned_before_the_amount_waits_for_the_amount_instead_of_failing(string screen)
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: screen);
        var memberId = await EnrolAsync(merchant, "Émilie du Châtelet");

        // A hardware scanner types the code then Enter, before the cashier typed the amount.
        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(memberId.ToString());
        await page.GetByLabel("Carte du client (code ou e-mail)").PressAsync("Enter");
        await Assertions.Expect(page.GetByLabel("Montant de l'achat (€)")).ToBeFocusedAsync();
        await Assertions.Expect(page.Locator(".field-error")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByLabel("Carte du client (code ou e-mail)")).ToHaveValueAsync(memberId.ToString());

        await page.GetByLabel("Montant de l'achat (€)").FillAsync("5");
        await page.GetByLabel("Montant de l'achat (€)").PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("5");
        Assert.Equal(5, await PointsAsync(merchant, memberId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task One_visit_is_offered_once_a_visit_earns_points_and_credits_them()
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: WebFixture.Phone);
        var memberId = await EnrolAsync(merchant, "Lise Meitner");
        await page.GotoAsync($"{fixture.Web}programme");
        await page.GetByLabel("Points par passage").FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Règles enregistrées");
        await page.GotoAsync($"{fixture.Web}caisse");

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(memberId.ToString());
        await page.GetByLabel("1 passage").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("2");
        Assert.Equal(2, await PointsAsync(merchant, memberId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task On_a_phone_the_field_the_amount_the_result_and_the_camera_fit_on_one_screen()
    {
        await using var cameraBrowser = await fixture.LaunchAsync("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream");
        var (merchant, page) = await fixture.SignedInAsync(cameraBrowser, screen: WebFixture.Phone);
        await page.Context.GrantPermissionsAsync(["camera"], new() { Origin = fixture.Web.ToString().TrimEnd('/') });
        var memberId = await EnrolAsync(merchant, "Ada Lovelace");
        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(memberId.ToString());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("7,90");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("7");
        await page.GetByRole(AriaRole.Button, new() { Name = "Scanner avec la caméra" }).ClickAsync();
        await Assertions.Expect(page.Locator("video.camera")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await WebFixture.ScreenshotAsync(page, "caisse-camera-phone");

        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.scrollY"));
        foreach (var element in new[]
        {
            page.GetByLabel("Carte du client (code ou e-mail)"), page.GetByLabel("Montant de l'achat (€)"),
            page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }), page.Locator("video.camera"),
            page.Locator(".result"), page.GetByRole(AriaRole.Button, new() { Name = "Annuler le crédit de Ada Lovelace" }),
        })
        {
            var box = await element.BoundingBoxAsync();
            Assert.NotNull(box);
            Assert.True(box.Y >= 0 && box.Y + box.Height <= 844 && box.X >= 0 && box.X + box.Width <= 390,
                $"{element} is at ({box.X}, {box.Y}) size {box.Width}×{box.Height}, outside the 390×844 screen");
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_typed_e_mail_credits_that_member_and_bad_input_is_explained_next_to_the_field()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        var memberId = await EnrolAsync(merchant, "Paul Langevin");

        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#code-error")).ToHaveTextAsync("Scannez la carte ou saisissez le code ou l'e-mail du client.");
        await Assertions.Expect(page.Locator("#amount-error")).ToHaveTextAsync("Indiquez le montant de l'achat.");

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(Guid.NewGuid().ToString());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("douze");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#amount-error")).ToHaveTextAsync("Montant invalide : saisissez par exemple 7,90.");
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#code-error")).ToContainTextAsync("Carte inconnue");
        await WebFixture.ScreenshotAsync(page, "scanner-errors");
        Assert.Equal(0, await PointsAsync(merchant, memberId));

        // The default program gives nothing for a visit alone: « 1 passage » is not offered, and a
        // sale too small for a point is explained to the merchant (« vos règles »).
        await page.GotoAsync($"{fixture.Web}caisse");
        await Assertions.Expect(page.GetByLabel("1 passage")).ToHaveCountAsync(0);
        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(EmailOf("Paul Langevin", merchant).ToUpperInvariant());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("0,50");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#amount-error")).ToHaveTextAsync(
            "Aucun point à créditer avec vos règles (1 point(s) par euro, 0 par passage). Vous pouvez les changer dans « Programme ».");
        await Assertions.Expect(page.Locator("body")).Not.ToContainTextAsync("commerçant");

        await page.GetByLabel("Montant de l'achat (€)").FillAsync("3");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Paul Langevin");
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("3");
        Assert.Equal(3, await PointsAsync(merchant, memberId));
        await page.Context.CloseAsync();
    }

    public static string EmailOf(string name, CreatedMerchant merchant) =>
        $"{name.Replace(' ', '.').ToLowerInvariant()}@{merchant.Slug}.example.fr";

    private Task<Guid> EnrolAsync(CreatedMerchant merchant, string name) => EnrolAsync(fixture, merchant, name);

    public static async Task<Guid> EnrolAsync(WebFixture fixture, CreatedMerchant merchant, string name)
    {
        var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members", new { name, email = EmailOf(name, merchant) }, Ct);
        enrolled.EnsureSuccessStatusCode();
        return (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
    }

    public static async Task<long> PointsAsync(WebFixture fixture, CreatedMerchant merchant, Guid memberId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/businesses/{merchant.Slug}/integration/lookup?barcode={memberId}");
        request.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        using var response = await fixture.Client.SendAsync(request, Ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("member").GetProperty("points").GetInt64();
    }

    private Task<long> PointsAsync(CreatedMerchant merchant, Guid memberId) => PointsAsync(fixture, merchant, memberId);
}
