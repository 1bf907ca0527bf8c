using System.Net;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>The merchant's sign-in link and web sessions, as the merchant handles them (issue 19).</summary>
[Collection(WebCollection.Name)]
public sealed class SessionSecurityTests(WebFixture fixture)
{
    [Fact]
    public async Task Regenerating_the_link_asks_first_shows_the_new_link_once_and_signs_out_every_other_browser()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        var (_, otherBrowser) = await fixture.SignedInAsync(existing: merchant);
        await page.GotoAsync($"{fixture.Web}integration");

        // One click asks; nothing is replaced yet.
        await page.GetByRole(AriaRole.Button, new() { Name = "Générer un nouveau lien de connexion" }).ClickAsync();
        await Assertions.Expect(page.Locator("#token-confirm")).ToContainTextAsync("Remplacer votre lien de connexion ?");
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken)).StatusCode);
        await page.GetByRole(AriaRole.Link, new() { Name = "Annuler" }).ClickAsync();
        await Assertions.Expect(page.Locator("#token-confirm")).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Button, new() { Name = "Générer un nouveau lien de connexion" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Oui, remplacer mon lien" }).ClickAsync();
        var link = (await page.Locator("[data-new-link]").TextContentAsync())!.Trim();
        var token = fixture.Remember((await page.Locator("[data-new-token]").TextContentAsync())!.Trim());
        Assert.EndsWith("?token=" + token, link, StringComparison.Ordinal);
        Assert.Equal($"{fixture.Web}integration", page.Url);

        // Shown once; this browser is still signed in (with the new link), the other one is not.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-new-link]")).ToHaveCountAsync(0);
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);
        await Assertions.Expect(page.Locator(".merchant")).ToHaveTextAsync(merchant.Name);
        await Fidpass.Testing.Eventually.True(async () =>
        {
            await otherBrowser.GotoAsync($"{fixture.Web}integration");
            return otherBrowser.Url.StartsWith($"{fixture.Web}?", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10), "the other browser's session ended");
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken)).StatusCode);
        await page.Context.CloseAsync();
        await otherBrowser.Context.CloseAsync();
    }

    [Fact]
    public async Task A_link_of_another_merchant_asks_before_switching_accounts()
    {
        var (mine, page) = await fixture.SignedInAsync();
        var theirs = await fixture.CreateMerchantAsync();

        await page.GotoAsync(fixture.SignInLink(theirs));
        await Assertions.Expect(page.Locator("#other-account")).ToContainTextAsync($"Vous êtes connecté à « {mine.Name} »");
        Assert.DoesNotContain(theirs.DashboardToken, page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain(theirs.DashboardToken, await page.ContentAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Button, new() { Name = $"Rester sur « {mine.Name} »" }).ClickAsync();
        await Assertions.Expect(page.Locator(".merchant")).ToHaveTextAsync(mine.Name);

        await page.GotoAsync(fixture.SignInLink(theirs));
        await page.GetByRole(AriaRole.Button, new() { Name = $"Me déconnecter et ouvrir « {theirs.Name} »" }).ClickAsync();
        await Assertions.Expect(page.Locator(".merchant")).ToHaveTextAsync(theirs.Name);
        Assert.Equal($"{fixture.Web}caisse", page.Url);

        // The merchant's own link again: no question.
        await page.GotoAsync(fixture.SignInLink(theirs));
        Assert.Equal($"{fixture.Web}caisse", page.Url);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Open_sessions_are_listed_and_sign_out_everywhere_ends_them_all()
    {
        var (merchant, page) = await fixture.SignedInAsync();
        var (_, phone) = await fixture.SignedInAsync(existing: merchant);
        await page.GotoAsync($"{fixture.Web}integration");
        await Assertions.Expect(page.Locator("tr[data-session]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("tr[data-session]", new() { HasText = "Ce navigateur" })).ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter partout" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Toutes vos sessions sont fermées");
        await Fidpass.Testing.Eventually.True(async () =>
        {
            await phone.GotoAsync($"{fixture.Web}integration");
            return phone.Url.StartsWith($"{fixture.Web}?", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10), "the phone's session ended");

        // The link still works.
        await page.GotoAsync(fixture.SignInLink(merchant));
        Assert.Equal($"{fixture.Web}caisse", page.Url);
        await page.Context.CloseAsync();
        await phone.Context.CloseAsync();
    }
}
