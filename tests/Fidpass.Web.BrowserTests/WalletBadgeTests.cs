using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Testing;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>The card page offers the card for the phone's wallet; the Apple link downloads a pass.</summary>
[Collection(WebCollection.Name)]
public sealed class WalletBadgeTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_add_to_apple_wallet_link_downloads_the_members_pkpass()
    {
        var merchant = await fixture.CreateMerchantAsync("Fromagerie Lune");
        using var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members",
            new { name = "Marie Curie", email = $"{Guid.NewGuid():N}@example.fr" }, Ct);
        enrolled.EnsureSuccessStatusCode();
        var member = (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
        // The pass exists once the wallet has consumed the enrolment loyalty relayed.
        var passUrl = $"/api/v1/merchants/{merchant.Slug}/cards/{member}/wallet/apple";
        await Eventually.True(async () =>
        {
            using var response = await fixture.Client.GetAsync(new Uri(passUrl, UriKind.Relative), Ct);
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(60), "the member's pass in the wallet service");

        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "fr-FR", AcceptDownloads = true, ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.Web}carte/{merchant.Slug}/{member}");
        var badge = page.GetByRole(AriaRole.Link, new() { Name = "Ajouter à Apple Wallet" });
        await Assertions.Expect(badge).ToBeVisibleAsync();

        var passResponse = page.WaitForResponseAsync(r => r.Url.EndsWith(passUrl, StringComparison.Ordinal), new() { Timeout = 60_000 });
        var download = await page.RunAndWaitForDownloadAsync(() => badge.ClickAsync(), new() { Timeout = 60_000 });
        var response = await passResponse;

        Assert.Equal(200, response.Status);
        Assert.Equal("application/vnd.apple.pkpass", response.Headers["content-type"]);
        Assert.EndsWith(".pkpass", download.SuggestedFilename, StringComparison.Ordinal);
        var path = await download.PathAsync();
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        Assert.Contains(zip.Entries, e => e.FullName == "pass.json");
        Assert.Contains(zip.Entries, e => e.FullName == "signature");
        await WebFixture.ScreenshotAsync(page, "member-card-wallet-badge");
        await context.CloseAsync();
    }
}
