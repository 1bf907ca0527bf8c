using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Fidpass.Contracts.Merchants;
using MassTransit;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>
/// The shop's name, colours and logo: set by the merchant through the gateway, refused whole when any
/// part is wrong, read by anyone (the customer pages) and published once per save for the wallet.
/// </summary>
public sealed class BrandingTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    /// <summary>A real 1×1 PNG.</summary>
    public const string TinyPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_save_is_read_publicly_with_its_logo_and_published_exactly_once()
    {
        var merchant = await fixture.CreateMerchantAsync("Compte Dupont");
        var changes = Channel.CreateUnbounded<MerchantBrandingChanged>();
        var listener = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(fixture.RabbitMq));
            bus.ReceiveEndpoint("test-branding-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<MerchantBrandingChanged>(context => context.Message.MerchantId == merchant.Id
                    ? changes.Writer.WriteAsync(context.Message).AsTask()
                    : Task.CompletedTask);
            });
        });
        await listener.StartAsync(Ct);
        try
        {
            // Never set: the account's name in Fidpass's colours, no logo.
            var before = await ShopAsync(merchant.Slug);
            Assert.Equal(("Compte Dupont", "#0B6E4F", "#FFFFFF", JsonValueKind.Null), (before.Text("name"), before.Text("backgroundColor"), before.Text("foregroundColor"), before.GetProperty("logoUrl").ValueKind));
            Assert.Equal("contact@example.fr", before.Text("contactEmail"));

            using var first = await PutAsync(merchant, new { name = "Café Dupont", backgroundColor = "#f5e6c8", logoPngBase64 = TinyPng });
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            using var second = await PutAsync(merchant, new { name = "Le Café Dupont", backgroundColor = "#1a2b3c" });
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);

            // The colour chosen for contrast: dark text on a light background, light text on a dark one; the logo kept when not sent again.
            var shop = await ShopAsync(merchant.Slug);
            Assert.Equal(("Le Café Dupont", "#1A2B3C", "#FFFFFF"), (shop.Text("name"), shop.Text("backgroundColor"), shop.Text("foregroundColor")));
            var logoUrl = shop.Text("logoUrl")!;
            using var logo = await fixture.Client.GetAsync(new Uri(logoUrl, UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.OK, logo.StatusCode);
            Assert.Equal("image/png", logo.Content.Headers.ContentType?.MediaType);
            Assert.Equal(Convert.FromBase64String(TinyPng), await logo.Content.ReadAsByteArrayAsync(Ct));
            Assert.True(logo.Headers.CacheControl?.Public, $"Cache-Control: {logo.Headers.CacheControl}");
            Assert.NotNull(logo.Headers.ETag);
            using var again = new HttpRequestMessage(HttpMethod.Get, logoUrl);
            again.Headers.IfNoneMatch.Add(logo.Headers.ETag);
            using var notModified = await fixture.Client.SendAsync(again, Ct);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

            // Removing the logo: the logo route answers 404.
            using var removed = await PutAsync(merchant, new { name = "Le Café Dupont", backgroundColor = "#1a2b3c", foregroundColor = "#ffcc00", removeLogo = true });
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
            using var gone = await fixture.Client.GetAsync(new Uri($"/api/v1/shops/{merchant.Slug}/logo.png", UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

            // Each save published once (the relay may publish a batch in any order), the logo with it while it exists.
            var published = new List<MerchantBrandingChanged>();
            while (published.Select(p => p.ForegroundColor).Distinct().Count() < 3)
            {
                published.Add(await NextAsync(changes.Reader));
            }

            Assert.Equal(
                [("Café Dupont", "#F5E6C8", "#000000", TinyPng), ("Le Café Dupont", "#1A2B3C", "#FFFFFF", TinyPng), ("Le Café Dupont", "#1A2B3C", "#FFCC00", null)],
                published.OrderBy(p => p.OccurredAt).Select(p => (p.Name, p.BackgroundColor, p.ForegroundColor, p.LogoPngBase64)));
            Assert.All(published, p => Assert.Equal(merchant.Slug, p.Slug));
        }
        finally
        {
            await listener.StopAsync(Ct);
        }
    }

    [Theory]
    [InlineData("", "#112233", null, "invalid_shop_name")]
    [InlineData("Café", "vert", null, "invalid_background_color")]
    [InlineData("Café", "#12345", null, "invalid_background_color")]
    [InlineData("Café", "#112233", "not-base64!", "invalid_logo")]
    [InlineData("Café", "#112233", "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AVN//2Q==", "invalid_logo")]
    [InlineData("Café", "#112233", "truncated", "invalid_logo")]
    [InlineData("Café", "#112233", "corrupt", "invalid_logo")]
    [InlineData("Café", "#112233", "huge", "logo_too_large")]
    [InlineData("Café", "#112233", "iVBORw0KGgoAAAANSUhEUgAAE4gAAAABCAIAAAC9c9PfAAAAJUlEQVR4nO3BgQAAAADDoPlTX+EAVQEAAAAAAAAAAAAAAAAAwGE6mQAB52yShgAAAABJRU5ErkJggg==", "invalid_logo")]
    public async Task Bad_input_is_a_400_with_a_stable_code_in_French_and_changes_nothing(string name, string background, string? logo, string code)
    {
        var merchant = await fixture.CreateMerchantAsync("Avant");
        var png = Convert.FromBase64String(TinyPng);
        logo = logo switch
        {
            "truncated" => Convert.ToBase64String(png[..^12]),
            "corrupt" => Convert.ToBase64String([.. png[..40], (byte)(png[40] ^ 0xFF), .. png[41..]]),
            "huge" => Convert.ToBase64String([.. png[..^12], .. new byte[65 * 1024], .. png[^12..]]),
            _ => logo,
        };

        using var refused = await PutAsync(merchant, new { name, backgroundColor = background, logoPngBase64 = logo });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(code, problem.Text("code"));
        Assert.Matches("(Le |La )", problem.Text("detail"));
        var shop = await ShopAsync(merchant.Slug);
        Assert.Equal(("Avant", "#0B6E4F"), (shop.Text("name"), shop.Text("backgroundColor")));
    }

    [Fact]
    public async Task Only_the_merchant_sets_it_and_an_unknown_shop_is_a_404()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var other = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, "members");

        using var anonymous = await fixture.Client.PutAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/branding", new { name = "X", backgroundColor = "#000000" }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var byKey = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/merchants/{merchant.Slug}/branding") { Content = JsonContent.Create(new { name = "X", backgroundColor = "#000000" }) };
        byKey.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.Client.SendAsync(byKey, Ct)).StatusCode);
        using var otherShop = await PutAsync(other, new { name = "X", backgroundColor = "#000000" }, merchant.Slug);
        Assert.Equal(HttpStatusCode.Unauthorized, otherShop.StatusCode);
        Assert.Equal(merchant.Name, (await ShopAsync(merchant.Slug)).Text("name"));

        using var unknown = await fixture.Client.GetAsync(new Uri("/api/v1/shops/aucun-commerce-ici", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Commerce introuvable.", (await unknown.Content.ReadFromJsonAsync<JsonElement>(Ct)).Text("detail"));
        using var write = await fixture.Client.PutAsJsonAsync($"/api/v1/shops/{merchant.Slug}", new { name = "X" }, Ct);
        Assert.NotEqual(HttpStatusCode.OK, write.StatusCode);
    }

    private Task<HttpResponseMessage> PutAsync(CreatedMerchant merchant, object body, string? slug = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/merchants/{slug ?? merchant.Slug}/branding") { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        return fixture.Client.SendAsync(request, Ct);
    }

    private async Task<JsonElement> ShopAsync(string slug)
    {
        using var response = await fixture.Client.GetAsync(new Uri($"/api/v1/shops/{slug}", UriKind.Relative), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    private static async Task<MerchantBrandingChanged> NextAsync(ChannelReader<MerchantBrandingChanged> reader)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await reader.ReadAsync(timeout.Token);
    }
}

internal static class JsonText
{
    public static string? Text(this JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
