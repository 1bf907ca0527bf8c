using System.Net;
using System.Text.Json.Nodes;
using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Merchants;
using Fidpass.Testing;
using Fidpass.Wallet.Apple;

namespace Fidpass.Wallet.IntegrationTests;

/// <summary>
/// The merchant's branding (merchant-token's <c>MerchantBrandingChanged</c>) and reward catalogue
/// (loyalty's <c>RewardOfferChanged</c>), published on the bus as their services publish them, on
/// the Apple pass and on the Google card.
/// </summary>
public sealed class BrandingAndRewardTests(WalletFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_new_branding_shows_on_both_cards_and_pushes_the_registered_iphone_while_an_older_one_changes_nothing()
    {
        var member = await fixture.EnrolAsync("Café Dupont");
        var pushToken = WalletFixture.NewPushToken();
        using (var registered = await member.RegisterAsync("device-" + Guid.NewGuid().ToString("N"), pushToken, await member.AuthenticationTokenAsync()))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        await Eventually.True(() => Task.FromResult(member.GoogleObject is not null), Patience, "Google object inserted");
        var logo = PassImages.Square(12, "rgb(250, 240, 0)", "rgb(0, 0, 0)");
        var at = DateTimeOffset.UtcNow;
        await fixture.PublishAsync(new MerchantBrandingChanged(member.MerchantId, member.Slug, "Chez Léa", "#AA3300", "#FFFFFF", Convert.ToBase64String(logo), at));

        await Eventually.True(() => Task.FromResult(fixture.PushesTo(pushToken) == 1), Patience, "the registered iPhone is told");
        var pass = await member.PassJsonAsync();
        Assert.Equal("Chez Léa", (string)pass["organizationName"]!);
        Assert.Equal("Chez Léa", (string)pass["logoText"]!);
        Assert.Equal("rgb(170, 51, 0)", (string)pass["backgroundColor"]!);
        Assert.Equal("rgb(255, 255, 255)", (string)pass["foregroundColor"]!);
        Assert.Equal(logo, await FileAsync(member, "logo@2x.png"));

        var classId = (string)member.GoogleObject!["classId"]!;
        await Eventually.True(() => Task.FromResult((string?)GoogleWalletTests.FakeGoogleWalletClass(fixture, classId)["issuerName"] == "Chez Léa"),
            Patience, "Google class patched");
        var shop = GoogleWalletTests.FakeGoogleWalletClass(fixture, classId);
        Assert.Equal("#aa3300", (string)shop["hexBackgroundColor"]!);
        var logoUri = new Uri((string)shop["programLogo"]!["sourceUri"]!["uri"]!);
        Assert.Equal(logo, await fixture.Client.GetByteArrayAsync(new Uri(logoUri.PathAndQuery, UriKind.Relative), Ct));

        // merchant-token saved an older branding that arrives late: the newest stays, nobody is told.
        await Eventually.True(() => Task.FromResult(fixture.Consumed[member.MerchantId] == 2), Patience, "registration and branding consumed");
        await fixture.PublishAsync(new MerchantBrandingChanged(member.MerchantId, member.Slug, "Ancien nom", "#000000", "#FFFFFF", null, at.AddMinutes(-5)));
        await Eventually.True(() => Task.FromResult(fixture.Consumed[member.MerchantId] == 3), Patience, "older branding consumed");
        Assert.Equal("Chez Léa", (string)(await member.PassJsonAsync())["organizationName"]!);
        Assert.Equal("Chez Léa", (string)GoogleWalletTests.FakeGoogleWalletClass(fixture, classId)["issuerName"]!);
        Assert.Equal(1, fixture.PushesTo(pushToken));
    }

    [Fact]
    public async Task The_next_reward_is_the_cheapest_not_yet_affordable_and_follows_credits_and_the_catalogue_on_both_cards()
    {
        var member = await fixture.EnrolAsync();
        var coffee = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        await fixture.PublishAsync(new RewardOfferChanged(coffee, member.MerchantId, "Café offert", 50, false, at));
        await fixture.PublishAsync(new RewardOfferChanged(Guid.NewGuid(), member.MerchantId, "Croissant offert", 20, false, at));
        await ShowsAsync(member, "Croissant offert : encore 20 points");

        await member.CreditAsync(25);
        await ShowsAsync(member, "Café offert : encore 25 points");

        await member.CreditAsync(30);
        await ShowsAsync(member, "Récompense disponible");

        // A bigger reward added to the catalogue reaches the existing cards; an older version of it arriving late does not.
        var menu = Guid.NewGuid();
        await fixture.PublishAsync(new RewardOfferChanged(menu, member.MerchantId, "Menu offert", 100, false, at.AddSeconds(1)));
        await ShowsAsync(member, "Menu offert : encore 45 points");
        await fixture.PublishAsync(new RewardOfferChanged(menu, member.MerchantId, "Menu offert", 60, false, at));
        await Eventually.True(() => Task.FromResult(fixture.Consumed.TryGetValue(menu, out var n) && n == 2), Patience, "older offer consumed");
        await ShowsAsync(member, "Menu offert : encore 45 points");

        // Withdrawn: that reward is no longer aimed for.
        await fixture.PublishAsync(new RewardOfferChanged(menu, member.MerchantId, "Menu offert", 100, true, at.AddSeconds(2)));
        await ShowsAsync(member, "Récompense disponible");
    }

    /// <summary>Both cards show <paramref name="nextReward"/> (the Apple pass as the card page downloads it, the object as Google holds it).</summary>
    private static async Task ShowsAsync(Member member, string nextReward)
    {
        await Eventually.True(() => Task.FromResult(GoogleNextReward(member) == nextReward), Patience, $"Google card shows « {nextReward} »");
        await Eventually.True(async () => AppleNextReward(await member.PassJsonAsync()) == nextReward, Patience, $"Apple pass shows « {nextReward} »");
    }

    private static string? GoogleNextReward(Member member) =>
        member.GoogleObject?["textModulesData"]?.AsArray().FirstOrDefault(t => (string?)t!["id"] == "next_reward")?["body"]?.GetValue<string>();

    private static string? AppleNextReward(JsonObject pass) =>
        pass["storeCard"]!["auxiliaryFields"]?.AsArray().FirstOrDefault(f => (string?)f!["key"] == "nextReward")?["value"]?.GetValue<string>();

    private static async Task<byte[]> FileAsync(Member member, string name)
    {
        using var response = await member.DownloadAsync();
        return WalletFixture.Unzip(await response.Content.ReadAsByteArrayAsync(Ct))[name];
    }
}
