using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>
/// Everyday comfort of the merchant's pages (issue 22): Paris times, tables that fit a phone, a real
/// member search, copying and revoking keys, no technical words, support address, icons, thumb-sized checkboxes.
/// </summary>
[Collection(WebCollection.Name)]
public sealed partial class ComfortTests(WebFixture fixture, StubShop shop) : IClassFixture<StubShop>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>23:30 UTC on 6 December is 00:30 on the 7th in Paris.</summary>
    private const string ParisDateAndTime = "07/12/2026 à 00:30";

    private async Task<IPage> StubSignedInAsync(string screen, bool javaScript = true)
    {
        var options = WebFixture.ContextOptions(screen);
        options.JavaScriptEnabled = javaScript;
        var context = await fixture.Browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        await page.GotoAsync(shop.SignInLink);
        await Assertions.Expect(page.Locator(".merchant")).ToHaveTextAsync("Café de Minuit");
        return page;
    }

    [Fact]
    public async Task Every_date_and_time_is_shown_in_Paris_time_and_the_CSV_gives_ISO_8601_with_the_Paris_offset()
    {
        var page = await StubSignedInAsync(WebFixture.Desktop);

        await page.GotoAsync($"{shop.Web}membres");
        await Assertions.Expect(page.Locator("main tbody tr")).ToContainTextAsync(ParisDateAndTime);
        await page.GotoAsync($"{shop.Web}membres/{StubShop.MemberId}");
        await Assertions.Expect(page.Locator("main table tbody tr").First).ToContainTextAsync(ParisDateAndTime);
        await page.GotoAsync($"{shop.Web}integration");
        await Assertions.Expect(page.Locator("tr[data-key]")).ToContainTextAsync(ParisDateAndTime);
        await Assertions.Expect(page.Locator("tr[data-session]")).ToContainTextAsync(ParisDateAndTime);
        await page.GotoAsync($"{shop.Web}lecteurs");
        await Assertions.Expect(page.Locator("tr[data-reader='Comptoir']")).ToContainTextAsync(ParisDateAndTime);
        await Assertions.Expect(page.Locator("tr[data-sale='pi_stub'] td").First).ToHaveTextAsync("00:30");
        await page.GotoAsync($"{shop.Web}especes");
        await Assertions.Expect(page.Locator("[data-held-total]")).ToContainTextAsync(ParisDateAndTime);
        await Assertions.Expect(page.Locator("tr[data-sale='op_stub'] td").First).ToHaveTextAsync("00:30");

        var export = await page.APIRequest.GetAsync($"{shop.Web}membres/export.csv");
        Assert.Equal(200, export.Status);
        Assert.Contains(";3;2026-12-07T00:30:00+01:00", await export.TextAsync(), StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    /// <summary>The pages with tables, at both sizes; their screenshots (<c>&lt;page&gt;-phone.png</c>, <c>-desktop.png</c>) are the README's.</summary>
    [Theory]
    [InlineData(WebFixture.Phone)]
    [InlineData(WebFixture.Desktop)]
    public async Task No_table_overflows_the_screen_and_row_buttons_such_as_Revoquer_are_tapped_inside_it(string screen)
    {
        var page = await StubSignedInAsync(screen);
        foreach (var (path, name) in new[] { ("membres", "membres"), ($"membres/{StubShop.MemberId}", "membre"), ("integration", "integration"), ("lecteurs", "lecteurs"), ("especes", "especes") })
        {
            await page.GotoAsync($"{shop.Web}{path}");
            await Assertions.Expect(page.Locator("main table").First).ToBeVisibleAsync();
            var layout = await LayoutAsync(page);
            Assert.True(layout.Scroll <= layout.Width, $"/{path}: the page is {layout.Scroll} px wide on a {layout.Width} px screen");
            Assert.True(layout.Outside.Length == 0, $"/{path}: outside the screen: {string.Join(", ", layout.Outside)}");
            await WebFixture.ScreenshotAsync(page, $"{name}-{screen}");
        }

        await page.GotoAsync($"{shop.Web}integration");
        var revoke = page.GetByRole(AriaRole.Button, new() { Name = "Révoquer la clé Borne de la terrasse côté jardin" });
        await AssertOnScreenAsync(page, revoke);
        await (screen == WebFixture.Phone ? revoke.TapAsync() : revoke.ClickAsync());
        var confirm = page.GetByRole(AriaRole.Button, new() { Name = "Oui, révoquer « Borne de la terrasse côté jardin »" });
        await AssertOnScreenAsync(page, confirm);
        await (screen == WebFixture.Phone ? confirm.TapAsync() : confirm.ClickAsync());
        await Assertions.Expect(page.Locator("[data-revoked]")).ToHaveTextAsync("La clé « Borne de la terrasse côté jardin » est révoquée : elle ne fonctionne plus.");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Member_search_is_a_search_field_cleared_by_Effacer_and_the_CSV_export_holds_what_the_search_found()
    {
        var (merchant, page) = await fixture.SignedInAsync(screen: WebFixture.Phone);
        using var import = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/members/import")
        {
            Content = JsonContent.Create(new[] { new { name = "Ada Lovelace", email = "ada@example.fr" }, new { name = "Alan Turing", email = "alan@example.fr" } }),
        };
        import.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        (await fixture.Client.SendAsync(import, Ct)).EnsureSuccessStatusCode();

        await page.GotoAsync($"{fixture.Web}membres");
        var search = page.GetByRole(AriaRole.Searchbox, new() { Name = "Rechercher un membre" });
        await search.FillAsync("lovelace");
        await search.PressAsync("Enter");
        await Assertions.Expect(page.Locator("main tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("main tbody")).ToContainTextAsync("Ada Lovelace");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Exporter ces membres en CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!, Ct);
        Assert.Contains("\"Ada Lovelace\"", csv, StringComparison.Ordinal);
        Assert.DoesNotContain("Alan Turing", csv, StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Link, new() { Name = "Effacer la recherche" }).ClickAsync();
        await Assertions.Expect(search).ToHaveValueAsync("");
        await Assertions.Expect(page.Locator("main tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Effacer la recherche" })).ToHaveCountAsync(0);
        download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Exporter en CSV" }).ClickAsync());
        csv = await File.ReadAllTextAsync((await download.PathAsync())!, Ct);
        Assert.Contains("Alan Turing", csv, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_new_key_is_copied_by_its_button_with_a_visible_confirmation_and_is_selected_for_Ctrl_C_without_the_clipboard_API()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = fixture.Web.ToString().TrimEnd('/') });
        var key = await IssueKeyAsync(page, "Caisse du bar");
        await page.GetByRole(AriaRole.Button, new() { Name = "Copier la clé" }).ClickAsync();
        await Assertions.Expect(page.Locator("#key-copy-status")).ToContainTextAsync("Copié");
        Assert.Equal(key, await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        await page.Context.CloseAsync();

        // A browser without the clipboard API (old, or a page not served over HTTPS).
        var bare = await fixture.Browser.NewContextAsync(WebFixture.ContextOptions(WebFixture.Phone));
        await bare.AddInitScriptAsync("Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });");
        var old = await bare.NewPageAsync();
        await old.GotoAsync(fixture.SignInLink(merchant));
        var second = await IssueKeyAsync(old, "Borne de l'entrée");
        await old.GetByRole(AriaRole.Button, new() { Name = "Copier la clé" }).ClickAsync();
        await Assertions.Expect(old.Locator("#key-copy-status")).ToHaveTextAsync(new Regex("^(Copié|La clé est sélectionnée : copiez-la avec Ctrl\\+C)"));
        Assert.Equal(second, (await old.EvaluateAsync<string>("window.getSelection().toString()")).Trim());
        await bare.CloseAsync();
    }

    [Fact]
    public async Task Revoquer_asks_for_confirmation_then_says_the_key_is_revoked_even_without_JavaScript()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var options = WebFixture.ContextOptions(WebFixture.Phone);
        options.JavaScriptEnabled = false;
        var context = await fixture.Browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.SignInLink(merchant));
        await IssueKeyAsync(page, "Borne entrée");
        var row = page.Locator("tr[data-key='Borne entrée']");

        await page.GetByRole(AriaRole.Button, new() { Name = "Révoquer la clé Borne entrée" }).ClickAsync();
        await Assertions.Expect(page.Locator("#revoke-confirm")).ToContainTextAsync("Révoquer la clé « Borne entrée » ?");
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Link, new() { Name = "Non, garder la clé" }).ClickAsync();
        await Assertions.Expect(page.Locator("#revoke-confirm")).ToHaveCountAsync(0);
        await Assertions.Expect(row).ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Button, new() { Name = "Révoquer la clé Borne entrée" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Oui, révoquer « Borne entrée »" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-revoked]")).ToHaveTextAsync("La clé « Borne entrée » est révoquée : elle ne fonctionne plus.");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await WebFixture.ScreenshotAsync(page, "integration-key-revoked-phone");
        await context.CloseAsync();
    }

    /// <summary>What a merchant must never read outside « Détails techniques ».</summary>
    private static readonly Regex Technical = TechnicalWords();

    [GeneratedRegex(@"simulated_|_wisepos|_s700|tillId|deviceType|X-Dashboard-Token|Bearer|fpk_|fps_|CashlogyConnector\s*v?\d|\b\d{1,3}(\.\d{1,3}){3}\b|\bv?\d+\.\d+\.\d+\b|\b(scan|lookup|members|program|terminal|cash|null|undefined)\b|Exception")]
    private static partial Regex TechnicalWords();

    [Fact]
    public async Task The_main_pages_show_no_technical_words_outside_the_folded_technical_details()
    {
        var (_, page) = await fixture.SignedInAsync(screen: WebFixture.Phone);
        foreach (var path in new[] { "aujourdhui", "caisse", "membres", "integration", "lecteurs", "especes", "encaisser", "programme" })
        {
            await page.GotoAsync($"{fixture.Web}{path}");
            await AssertPlainFrenchAsync(page, path);
        }

        var stub = await StubSignedInAsync(WebFixture.Phone);
        foreach (var path in new[] { "membres", $"membres/{StubShop.MemberId}", "integration", "lecteurs", "especes" })
        {
            await stub.GotoAsync($"{shop.Web}{path}");
            await AssertPlainFrenchAsync(stub, path);
        }

        // Readers by the model's name, not Stripe's device type.
        await stub.GotoAsync($"{shop.Web}lecteurs");
        await Assertions.Expect(stub.Locator("tr[data-reader='Comptoir']")).ToContainTextAsync("BBPOS WisePOS E (lecteur de test)");

        // Still there for whoever needs it, one tap away.
        await stub.GotoAsync($"{shop.Web}especes");
        var details = stub.Locator("article[data-machine='Caisse 1'] details.technical");
        await details.Locator("summary").TapAsync();
        await Assertions.Expect(details.Locator("[data-technical]")).ToHaveTextAsync("192.168.1.20:8092 · CashlogyConnector 2.1.0");
        await page.Context.CloseAsync();
        await stub.Context.CloseAsync();
    }

    private static async Task AssertPlainFrenchAsync(IPage page, string path)
    {
        await Assertions.Expect(page.Locator("main h1")).ToBeVisibleAsync();
        var text = await page.Locator("body").InnerTextAsync();
        var found = Technical.Matches(text).Select(m => m.Value).Distinct().ToList();
        Assert.True(found.Count == 0, $"/{path} shows {string.Join(", ", found)}");
    }

    [Fact]
    public async Task The_sign_in_page_gives_the_configured_support_address_as_a_mail_link()
    {
        var context = await fixture.Browser.NewContextAsync(WebFixture.ContextOptions(WebFixture.Phone));
        var page = await context.NewPageAsync();
        await page.GotoAsync(shop.Web.ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = StubShop.SupportEmail })).ToHaveAttributeAsync("href", $"mailto:{StubShop.SupportEmail}");

        // Without a setting of its own, the address of appsettings.json.
        await page.GotoAsync(fixture.Web.ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "support@fidpass.example" })).ToHaveAttributeAsync("href", "mailto:support@fidpass.example");
        await context.CloseAsync();
    }

    [Fact]
    public async Task Pages_carry_a_favicon_and_PNG_icons_and_the_card_manifest_lists_192_and_512_pixel_icons()
    {
        using var http = new HttpClient { BaseAddress = fixture.Web };
        var page = await fixture.Browser.NewPageAsync();
        await page.GotoAsync(fixture.Web.ToString());
        Assert.Equal("/img/apple-touch-icon.png", await page.Locator("link[rel=apple-touch-icon]").GetAttributeAsync("href"));
        var icons = await page.Locator("link[rel=icon]").EvaluateAllAsync<string[]>("links => links.map(l => l.getAttribute('href'))");
        Assert.Contains("/favicon.ico", icons);
        Assert.Contains("/img/favicon-16.png", icons);
        Assert.Contains("/img/favicon-32.png", icons);
        await page.CloseAsync();

        foreach (var (path, size) in new[] { ("/img/favicon-16.png", 16), ("/img/favicon-32.png", 32), ("/img/apple-touch-icon.png", 180), ("/img/icon-192.png", 192), ("/img/icon-512.png", 512) })
        {
            Assert.Equal((size, size), await PngSizeAsync(http, path));
        }

        using var favicon = await http.GetAsync(new Uri("/favicon.ico", UriKind.Relative), Ct);
        var ico = await favicon.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal([0, 0, 1, 0, 2, 0], ico[..6]);
        Assert.Equal([16, 32], new[] { ico[6], ico[22] });

        var manifest = await http.GetFromJsonAsync<JsonElement>(new Uri($"/carte/{StubShop.Slug}/{Guid.NewGuid()}/manifest.webmanifest", UriKind.Relative), Ct);
        var listed = manifest.GetProperty("icons").EnumerateArray().ToDictionary(i => i.GetProperty("sizes").GetString()!, i => i.GetProperty("src").GetString()!);
        Assert.Equal((192, 192), await PngSizeAsync(http, listed["192x192"]));
        Assert.Equal((512, 512), await PngSizeAsync(http, listed["512x512"]));
    }

    [Fact]
    public async Task Checkboxes_offer_a_thumb_a_target_of_at_least_24_pixels()
    {
        var (_, page) = await fixture.SignedInAsync(screen: WebFixture.Phone);
        await page.GotoAsync($"{fixture.Web}integration");
        var boxes = page.Locator("input[type=checkbox]");
        await Assertions.Expect(boxes).ToHaveCountAsync(6);
        foreach (var box in await boxes.AllAsync())
        {
            var size = (await box.BoundingBoxAsync())!;
            Assert.True(size.Width >= 24 && size.Height >= 24, $"a checkbox of {size.Width}×{size.Height} px");
        }

        await page.Context.CloseAsync();
    }

    private static async Task<string> IssueKeyAsync(IPage page, string name)
    {
        await page.GotoAsync(new Uri(new Uri(page.Url), "/integration").ToString());
        await page.GetByLabel("Nom de la clé").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Créer la clé" }).ClickAsync();
        await Assertions.Expect(page.Locator($"tr[data-key=\"{name}\"]")).ToHaveCountAsync(1);
        var key = (await page.Locator("[data-new-key]").TextContentAsync())!.Trim();
        Assert.StartsWith("fpk_", key, StringComparison.Ordinal);
        return key;
    }

    private static async Task<(int Width, int Height)> PngSizeAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), Ct);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {response.StatusCode}");
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var png = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal("PNG", System.Text.Encoding.ASCII.GetString(png, 1, 3));
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    private sealed record Layout(int Scroll, int Width, string[] Outside);

    /// <summary>The document's width against the screen's, and every visible control of the page that lies beyond its edges.</summary>
    private static async Task<Layout> LayoutAsync(IPage page) => JsonSerializer.Deserialize<Layout>(await page.EvaluateAsync<string>("""
        () => {
          const width = document.documentElement.clientWidth;
          const outside = [...document.querySelectorAll('main button, main a, main input, main select')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e, e.getBoundingClientRect()])
            .filter(([, r]) => r.width > 1 && (r.left < 0 || r.right > width + 0.5))
            .map(([e, r]) => `${(e.getAttribute('aria-label') || e.textContent || e.name || '').trim()} (${Math.round(r.left)}–${Math.round(r.right)} px)`);
          return JSON.stringify({ Scroll: document.documentElement.scrollWidth, Width: width, Outside: outside });
        }
        """), JsonOptions)!;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static async Task AssertOnScreenAsync(IPage page, ILocator control)
    {
        await Assertions.Expect(control).ToBeVisibleAsync();
        var box = (await control.BoundingBoxAsync())!;
        var width = page.ViewportSize!.Width;
        Assert.True(box.X >= 0 && box.X + box.Width <= width, $"a control at {box.X}–{box.X + box.Width} px on a {width} px screen");
    }
}
