using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Gateway.IntegrationTests;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

[Collection(WebCollection.Name)]
public sealed class ScannerTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Typing_a_card_code_and_an_amount_credits_the_member_shows_the_new_balance_and_can_be_undone()
    {
        var (merchant, page) = await fixture.SignedInAsync();
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
        await WebFixture.ScreenshotAsync(page, "scanner-credited");

        await page.GetByRole(AriaRole.Button, new() { Name = "Annuler cette opération" }).ClickAsync();
        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Opération annulée");
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("0");
        Assert.Equal(0, await PointsAsync(merchant, memberId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_typed_e_mail_credits_that_member_and_bad_input_is_explained_next_to_the_field()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        var memberId = await EnrolAsync(merchant, "Paul Langevin");

        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#code-error")).ToHaveTextAsync("Scannez la carte ou saisissez le code ou l'e-mail du client.");
        await Assertions.Expect(page.Locator("#amount-error")).ToHaveTextAsync("Indiquez un montant ou cochez « 1 passage ».");

        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(Guid.NewGuid().ToString());
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("douze");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#amount-error")).ToHaveTextAsync("Montant invalide : saisissez par exemple 7,90.");
        await page.GetByLabel("Montant de l'achat (€)").FillAsync("");
        await page.GetByLabel("1 passage").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#code-error")).ToContainTextAsync("Carte inconnue");
        await WebFixture.ScreenshotAsync(page, "scanner-errors");
        Assert.Equal(0, await PointsAsync(merchant, memberId));

        // The default program gives nothing for a visit alone: the merchant's rules are explained next to the amount.
        await page.GetByLabel("Carte du client (code ou e-mail)").FillAsync(EmailOf("Paul Langevin", merchant).ToUpperInvariant());
        await page.GetByLabel("1 passage").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator("#amount-error")).ToContainTextAsync("Aucun point à créditer");

        await page.GetByLabel("Montant de l'achat (€)").FillAsync("3");
        await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
        await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Paul Langevin");
        await Assertions.Expect(page.Locator("[data-balance]")).ToHaveTextAsync("3");
        Assert.Equal(3, await PointsAsync(merchant, memberId));
        await page.Context.CloseAsync();
    }

    public static string EmailOf(string name, CreatedMerchant merchant) =>
        $"{name.Replace(' ', '.').ToLowerInvariant()}@{merchant.Slug}.example.fr";

    private async Task<Guid> EnrolAsync(CreatedMerchant merchant, string name)
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
