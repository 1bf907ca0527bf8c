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
            // The URL, then the card's content: not the page's load event, which a customer never waits
            // for (a clean-clone run once saw the card's URL for 60 s without that event).
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/carte/{merchant.Slug}/[0-9a-f-]{{36}}$"), new() { Timeout = 60_000 });
            await Assertions.Expect(page.Locator("[data-card-name]")).Not.ToBeEmptyAsync(new() { Timeout = 30_000 });
        }
        catch (PlaywrightException)
        {
            var shown = await page.Locator("#enrol [id$='-error']:not([hidden])").AllInnerTextsAsync();
            throw new TimeoutException($"the card did not open within 60 s; at {page.Url} the form shows: [{string.Join(" | ", shown)}]");
        }
    }

    /// <summary>
    /// What the scanner's video shows when the camera read nothing: its state and size, and how much
    /// of its current frame is dark (about 0.14 for the card's QR, 0 for a blank frame). The frame
    /// itself is saved with the screenshots.
    /// </summary>
    private static async Task<string> CameraStateAsync(IPage page)
    {
        var state = await page.EvaluateAsync<string[]>("""
            () => {
              const v = document.querySelector('[data-scan-video]');
              const c = document.createElement('canvas');
              c.width = v.videoWidth;
              c.height = v.videoHeight;
              let dark = 'none';
              if (c.width && c.height) {
                const x = c.getContext('2d');
                x.drawImage(v, 0, 0);
                const d = x.getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
                dark = (n / (c.width * c.height)).toFixed(3);
              }
              return [`video readyState ${v.readyState}, paused ${v.paused}, hidden ${v.hidden}, ${v.videoWidth}x${v.videoHeight}, at ${v.currentTime.toFixed(1)} s, dark fraction ${dark}; status: ${document.querySelector('[data-scan-status]')?.textContent}`,
                c.width ? c.toDataURL('image/png') : ''];
            }
            """);
        if (state[1].Length > 0)
        {
            await File.WriteAllBytesAsync(Path.Combine(WebFixture.ScreenshotFolder, "scanner-camera-frame.png"), Convert.FromBase64String(state[1][(state[1].IndexOf(',') + 1)..]));
        }

        return state[0];
    }

    [Fact]
    public async Task The_camera_reads_a_member_card_shown_on_a_phone_and_credits_that_member()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var cardPage = await fixture.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, Locale = "fr-FR" });
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
            // The QR as the card page lays it out (37 modules in 340 CSS pixels: 9.2 pixels each, so some
            // modules come out 9 pixels wide and others 10, as on a real screen).
            await cardPage.Locator(".qr svg").ScreenshotAsync(new LocatorScreenshotOptions { Path = png });
            await cardPage.CloseAsync();
            var video = await FakeCamera.VideoOfAsync(png, Path.Combine(folder, "card.y4m"));

            await using var cameraBrowser = await fixture.LaunchAsync("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", $"--use-file-for-fake-video-capture={video}");
            var (_, page) = await fixture.SignedInAsync(cameraBrowser, merchant, WebFixture.Phone);
            await page.Context.GrantPermissionsAsync(["camera"], new() { Origin = fixture.Web.ToString().TrimEnd('/') });
            await page.GetByRole(AriaRole.Button, new() { Name = "Scanner avec la caméra" }).ClickAsync();

            // Read before the amount was typed: the card waits for it instead of being refused (issue 22).
            // A loaded machine starts the camera and reads its frames slowly: a generous wait, no fixed delay.
            try
            {
                await Assertions.Expect(page.GetByLabel("Carte du client (code ou e-mail)")).ToHaveValueAsync(memberId.ToString(), new() { Timeout = 90_000 });
            }
            catch (PlaywrightException)
            {
                throw new TimeoutException($"the camera read nothing in 90 s; {await CameraStateAsync(page)}");
            }

            await Assertions.Expect(page.Locator("[data-scan-status]")).ToHaveTextAsync("Carte lue : saisissez le montant, puis « Créditer les points ».");
            await Assertions.Expect(page.GetByLabel("Montant de l'achat (€)")).ToBeFocusedAsync();
            await Assertions.Expect(page.Locator(".field-error")).ToHaveCountAsync(0);
            Assert.Equal(0, await ScannerTests.PointsAsync(fixture, merchant, memberId));
            await page.GetByLabel("Montant de l'achat (€)").FillAsync("8,40");
            await page.GetByRole(AriaRole.Button, new() { Name = "Créditer les points" }).ClickAsync();
            await Assertions.Expect(page.Locator(".result")).ToContainTextAsync("Pierre Curie");

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
