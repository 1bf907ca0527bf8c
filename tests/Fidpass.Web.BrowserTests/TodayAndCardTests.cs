using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Gateway.IntegrationTests;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>The merchant's « Aujourd'hui » overview and the member's live card, after credits made through the gateway.</summary>
[Collection(WebCollection.Name)]
public sealed class TodayAndCardTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<Guid> EnrolAsync(CreatedMerchant merchant, string name) => EnrolAsync(fixture, merchant, name);

    private Task ScanAsync(CreatedMerchant merchant, string key, Guid member, string amountEur) => ScanAsync(fixture, merchant, key, member, amountEur);

    internal static async Task<Guid> EnrolAsync(WebFixture fixture, CreatedMerchant merchant, string name)
    {
        using var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members",
            new { name, email = $"{Guid.NewGuid():N}@example.fr" }, Ct);
        enrolled.EnsureSuccessStatusCode();
        return (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
    }

    /// <summary>A till's scan through the gateway with a scan key (default program: 1 point per euro).</summary>
    internal static async Task ScanAsync(WebFixture fixture, CreatedMerchant merchant, string key, Guid member, string amountEur)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/scans")
        {
            Content = JsonContent.Create(new { barcode = member.ToString(), amount_eur = amountEur }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await fixture.Client.SendAsync(request, Ct);
        response.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task The_overview_shows_the_points_credited_today_and_is_first_in_the_menu()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        var key = await fixture.IssueKeyAsync(merchant, "scan");
        var member = await EnrolAsync(merchant, "Marie Curie");
        await page.GotoAsync($"{fixture.Web}aujourdhui");
        await Assertions.Expect(page.Locator("[data-points-credited]")).ToHaveTextAsync("0 points");

        await ScanAsync(merchant, key.Key, member, "12.50");
        await ScanAsync(merchant, key.Key, member, "7.90");
        await page.ReloadAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Aujourd'hui", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-points-credited]")).ToHaveTextAsync("19 points");
        await Assertions.Expect(page.Locator("[data-credits]")).ToContainTextAsync("2 crédit(s), dont 0 par un paiement");
        await Assertions.Expect(page.Locator("tr[data-method='card'] td").First).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("tr[data-method='refunds'] td").Last).ToHaveTextAsync("0,00\u00a0€");
        await Assertions.Expect(page.Locator("nav a").First).ToHaveTextAsync("Aujourd'hui");
        await Assertions.Expect(page.Locator("nav a").First).ToHaveAttributeAsync("aria-current", "page");
        await WebFixture.ScreenshotAsync(page, "today");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_members_card_page_shows_the_live_balance_after_a_credit_and_the_merchants_name()
    {
        var merchant = await fixture.CreateMerchantAsync("Boulangerie Lilas");
        var key = await fixture.IssueKeyAsync(merchant, "scan");
        var member = await EnrolAsync(merchant, "Pierre Curie");
        await ScanAsync(merchant, key.Key, member, "7.90");

        // A phone that never enrolled here: nothing saved, everything shown comes from the live card.
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "fr-FR", ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.Web}carte/{merchant.Slug}/{member}");
        await Assertions.Expect(page.Locator("[data-card-balance]")).ToHaveTextAsync("7");
        await Assertions.Expect(page.Locator("[data-card-name]")).ToHaveTextAsync("Pierre");

        await ScanAsync(merchant, key.Key, member, "5.00");
        await Fidpass.Testing.Eventually.True(async () =>
        {
            // The merchant's name reaches loyalty with MerchantRegistered, through RabbitMQ.
            await page.ReloadAsync();
            await Assertions.Expect(page.Locator("[data-card-balance]")).ToHaveTextAsync("12");
            return await page.Locator("[data-shop-name]").TextContentAsync() == "Boulangerie Lilas";
        }, what: "the card with its merchant's name");
        Assert.DoesNotContain("example.fr", await page.ContentAsync(), StringComparison.Ordinal);
        await WebFixture.ScreenshotAsync(page, "member-card-live-balance");
        await context.CloseAsync();
    }
}
