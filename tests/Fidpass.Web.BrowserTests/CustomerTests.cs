using Fidpass.Gateway.IntegrationTests;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

[Collection(WebCollection.Name)]
public sealed class CustomerTests(WebFixture fixture)
{
    [Fact]
    public async Task A_customer_enrols_on_the_public_page_and_gets_a_card_page_holding_the_member_QR()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var page = await fixture.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, Locale = "fr-FR" });
        await page.GotoAsync($"{fixture.Web}inscription/{merchant.Slug}");

        await page.GetByRole(AriaRole.Button, new() { Name = "Créer ma carte" }).ClickAsync();
        await Assertions.Expect(page.Locator("#name-error")).ToHaveTextAsync("Indiquez votre prénom et votre nom.");
        await Assertions.Expect(page.Locator("#email-error")).ToContainTextAsync("adresse e-mail valide");
        await Assertions.Expect(page.Locator("#consent-error")).ToContainTextAsync("Cochez la case");
        await WebFixture.ScreenshotAsync(page, "enrolment-errors");

        await page.GetByLabel("Prénom et nom").FillAsync("Irène Joliot");
        await page.GetByLabel("E-mail", new() { Exact = true }).FillAsync($"irene.{Guid.NewGuid():N}@example.fr");
        await page.GetByLabel("J'accepte").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Créer ma carte" }).ClickAsync();

        await CardOpensAsync(page, merchant);
        var memberId = Guid.Parse(page.Url[^36..]);
        await Assertions.Expect(page.Locator("[data-card-name]")).ToHaveTextAsync("Irène Joliot");
        await Assertions.Expect(page.Locator("[data-card-balance]")).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator(".qr svg")).ToBeVisibleAsync();
        Assert.True((await page.Locator(".qr svg").BoundingBoxAsync())!.Width >= 300, "the QR is large enough to scan from a phone");
        Assert.Equal(0, await ScannerTests.PointsAsync(fixture, merchant, memberId));
        var manifest = await page.Locator("link[rel=manifest]").GetAttributeAsync("href");
        var response = await page.Context.APIRequest.GetAsync(new Uri(fixture.Web, manifest).ToString());
        Assert.Contains($"\"start_url\":\"/carte/{merchant.Slug}/{memberId}\"", await response.TextAsync(), StringComparison.Ordinal);
        await WebFixture.ScreenshotAsync(page, "member-card");
        await page.CloseAsync();
    }

    /// <summary>
    /// Waits for the enrolment to open the new card (generously: a loaded machine is slow). When it does
    /// not, the failure says what the form showed instead (a refusal, the gateway unreachable…).
    /// </summary>
    private static async Task CardOpensAsync(IPage page, CreatedMerchant merchant)
    {
        try
        {
            await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex($"/carte/{merchant.Slug}/[0-9a-f-]{{36}}$"), new() { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            var shown = await page.Locator("#enrol [id$='-error']:not([hidden])").AllInnerTextsAsync();
            throw new TimeoutException($"the card did not open within 60 s; at {page.Url} the form shows: [{string.Join(" | ", shown)}]");
        }
    }

    [Fact]
    public async Task The_camera_reads_a_member_card_shown_on_a_phone_and_credits_that_member()
    {
        var merchant = await fixture.CreateMerchantAsync();
        // The card's SVG is 37 modules (QR and quiet zone) drawn 340 CSS px wide: at 37/34 device pixels
        // per CSS pixel every module is exactly 10 pixels. At a fractional pitch (9.2) some modules come out
        // 9 pixels wide and others 10, and for some member UUIDs ZXing's detector then misjudges the
        // code's dimension on every frame (all frames being identical): that was the flaky failure.
        var cardPage = await fixture.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 640, Height = 900 }, DeviceScaleFactor = 37f / 34f, Locale = "fr-FR" });
        await cardPage.GotoAsync($"{fixture.Web}inscription/{merchant.Slug}");
        await cardPage.GetByLabel("Prénom et nom").FillAsync("Pierre Curie");
        await cardPage.GetByLabel("E-mail", new() { Exact = true }).FillAsync($"pierre.{Guid.NewGuid():N}@example.fr");
        await cardPage.GetByLabel("J'accepte").CheckAsync();
        await cardPage.GetByRole(AriaRole.Button, new() { Name = "Créer ma carte" }).ClickAsync();
        await CardOpensAsync(cardPage, merchant);
        var memberId = Guid.Parse(cardPage.Url[^36..]);

        // The fake camera films the QR of the member's own card page, as the phone shows it.
        var folder = Directory.CreateTempSubdirectory("fidpass-camera-").FullName;
        try
        {
            var png = Path.Combine(folder, "card.png");
            // The card's own SVG, filmed at the page's origin: where the card page lays it out depends on
            // the text above it (merchant and member names, fonts), and at a fractional offset the
            // module edges fall between device pixels again, which made this test flaky on some runs.
            var svg = await cardPage.Locator(".qr svg").EvaluateAsync<string>("e => e.outerHTML");
            await cardPage.SetContentAsync($"<html><body style=\"margin:0;background:#fff\"><div id=\"qr\" style=\"width:340px;height:340px\">{svg}</div></body></html>");
            await cardPage.AddStyleTagAsync(new() { Content = "#qr svg { display: block; width: 340px; height: 340px; }" });
            await cardPage.Locator("#qr svg").ScreenshotAsync(new LocatorScreenshotOptions { Path = png });
            await cardPage.CloseAsync();
            var video = await FakeCamera.VideoOfAsync(png, Path.Combine(folder, "card.y4m"));

            await using var cameraBrowser = await fixture.LaunchAsync("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", $"--use-file-for-fake-video-capture={video}");
            var (_, page) = await fixture.SignedInAsync(cameraBrowser, merchant);
            await page.Context.GrantPermissionsAsync(["camera"], new() { Origin = fixture.Web.ToString().TrimEnd('/') });
            await page.GetByLabel("Montant de l'achat (€)").FillAsync("8,40");
            await page.GetByRole(AriaRole.Button, new() { Name = "Scanner avec la caméra" }).ClickAsync();

            // A loaded machine starts the camera and reads its frames slowly: a generous wait, no fixed delay.
            await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Pierre Curie", new() { Timeout = 90_000 });
            await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("+8 points");
            Assert.Equal(8, await ScannerTests.PointsAsync(fixture, merchant, memberId));
            await WebFixture.ScreenshotAsync(page, "scanner-camera-credited");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
