using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fidpass.Testing;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>The card page offers the card for the phone's wallet; the Apple link downloads a pass, the Google link opens Google's save page.</summary>
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
        }, TimeSpan.FromSeconds(120), "the member's pass in the wallet service");

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

    [Fact]
    public async Task The_add_to_google_wallet_link_opens_googles_save_page_with_a_jwt_signed_by_the_service_account()
    {
        var merchant = await fixture.CreateMerchantAsync("Primeurs Soleil");
        using var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members",
            new { name = "Rosalind Franklin", email = $"{Guid.NewGuid():N}@example.fr" }, Ct);
        enrolled.EnsureSuccessStatusCode();
        var member = (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
        await Eventually.True(async () =>
        {
            using var response = await fixture.Client.GetAsync(new Uri($"/api/v1/merchants/{merchant.Slug}/cards/{member}/wallet/apple", UriKind.Relative), Ct);
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(120), "the member's pass in the wallet service");

        var context = await fixture.Browser.NewContextAsync(WebFixture.ContextOptions(WebFixture.Phone));
        var page = await context.NewPageAsync();
        // Google's page is not reachable from here: the browser's request to it is answered in its place.
        await page.RouteAsync("https://pay.google.com/**", route => route.FulfillAsync(new() { Status = 200, ContentType = "text/html", Body = "<title>Google Wallet</title>" }));
        await page.GotoAsync($"{fixture.Web}carte/{merchant.Slug}/{member}");
        var badge = page.GetByRole(AriaRole.Link, new() { Name = "Ajouter à Google Wallet" });
        await Assertions.Expect(badge).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Ajouter à Apple Wallet" })).ToBeVisibleAsync();
        await WebFixture.ScreenshotAsync(page, "member-card-wallet-badges");

        await badge.ClickAsync();
        await page.WaitForURLAsync("https://pay.google.com/gp/v/save/**", new() { Timeout = 60_000 });

        var jwt = page.Url["https://pay.google.com/gp/v/save/".Length..];
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var account = JsonDocument.Parse(await File.ReadAllTextAsync(fixture.GoogleServiceAccountPath, Ct)).RootElement;
        using var key = RSA.Create();
        key.ImportFromPem(account.GetProperty("private_key").GetString());
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "the save link's JWT verifies with the service account's public key");
        var claims = JsonDocument.Parse(FromBase64Url(parts[1])).RootElement;
        Assert.Equal("savetowallet", claims.GetProperty("typ").GetString());
        Assert.Equal("google", claims.GetProperty("aud").GetString());
        Assert.Equal(account.GetProperty("client_email").GetString(), claims.GetProperty("iss").GetString());
        Assert.Equal(fixture.Web.ToString().TrimEnd('/'), claims.GetProperty("origins")[0].GetString());
        var card = claims.GetProperty("payload").GetProperty("loyaltyObjects")[0];
        Assert.EndsWith($".member-{member:N}", card.GetProperty("id").GetString(), StringComparison.Ordinal);
        await context.CloseAsync();
    }

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        return Convert.FromBase64String(padded);
    }
}
