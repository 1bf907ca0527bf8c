using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Loyalty;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>The strict public limit (3 a minute per IP) with loyalty behind the gateway, for the public card route.</summary>
public sealed class PublicCardFixture : StrictPublicLimitFixture
{
    public KestrelHost<LoyaltyApi> Loyalty { get; private set; } = null!;

    protected override async Task StartServicesAsync()
    {
        await base.StartServicesAsync();
        Loyalty = await AddServiceAsync<LoyaltyApi>("loyalty");
    }
}

/// <summary>
/// The member's card page reads its live balance from the browser through the gateway
/// (<c>loyalty-v1-public-card</c>): no credential, nothing but what the card shows, never through
/// another merchant's slug, and counted against its own public bucket per IP and per merchant
/// (a customer refreshing cards never blocks enrolment).
/// </summary>
public sealed class PublicCardRouteTests(PublicCardFixture fixture) : IClassFixture<PublicCardFixture>
{
    [Fact]
    public async Task A_card_is_read_anonymously_shows_no_personal_data_and_counts_against_the_public_limit()
    {
        var ct = TestContext.Current.CancellationToken;
        var shop = await fixture.CreateMerchantAsync("Boulangerie Carte");
        var other = await fixture.CreateMerchantAsync();
        var email = $"ada.{Guid.NewGuid():N}@example.fr";

        // The customer enrols through the merchant's poster (the enrolment bucket: 1 of 3).
        using var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{shop.Slug}/members", new { name = "Ada Lovelace", email }, ct);
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        var memberId = (await enrolled.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("memberId").GetGuid();

        // Loyalty learns the merchant's name from MerchantRegistered; wait for it behind the gateway's back (no public budget spent).
        using var direct = new HttpClient { BaseAddress = fixture.Loyalty.Address };
        direct.DefaultRequestHeaders.Add(GatewayIdentity.MerchantIdHeader, shop.Id.ToString());
        direct.DefaultRequestHeaders.Add(GatewayIdentity.MerchantSlugHeader, shop.Slug);
        direct.DefaultRequestHeaders.Add(GatewayIdentity.CredentialKindHeader, GatewayIdentity.Anonymous);
        await Eventually.True(async () => (await direct.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{shop.Slug}/cards/{memberId}", ct))
            .GetProperty("merchant").GetProperty("name").GetString() is not null, what: "loyalty knows the merchant's name");

        // Card view 1 of 3 (the card bucket of this shop), without any credential.
        using var card = await fixture.Client.GetAsync(new Uri($"/api/v1/merchants/{shop.Slug}/cards/{memberId}", UriKind.Relative), ct);
        var body = await card.Content.ReadAsStringAsync(ct);
        Assert.True(card.StatusCode == HttpStatusCode.OK, $"{(int)card.StatusCode} {body}");
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(("Boulangerie Carte", "Ada", 0L), (json.GetProperty("merchant").GetProperty("name").GetString(),
            json.GetProperty("member").GetProperty("firstName").GetString(), json.GetProperty("member").GetProperty("points").GetInt64()));
        Assert.DoesNotContain(email, body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Lovelace", body, StringComparison.Ordinal);

        // The same card through another merchant's slug is unknown there (and counts in that shop's bucket).
        using var elsewhere = await fixture.Client.GetAsync(new Uri($"/api/v1/merchants/{other.Slug}/cards/{memberId}", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Equal("member_not_found", await GatewayFixture.CodeOf(elsewhere));

        // Views 2 and 3, then this client is limited on this shop's cards…
        for (var i = 0; i < 2; i++)
        {
            using var again = await fixture.Client.GetAsync(new Uri($"/api/v1/merchants/{shop.Slug}/cards/{memberId}", UriKind.Relative), ct);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        using var limited = await fixture.Client.GetAsync(new Uri($"/api/v1/merchants/{shop.Slug}/cards/{memberId}", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("rate_limited", await GatewayFixture.CodeOf(limited));

        // …but reading cards never blocks enrolling (its own bucket), nor reading another shop's cards.
        using var nextCustomer = await fixture.Client.PostAsJsonAsync($"/api/businesses/{shop.Slug}/members", new { name = "Grace Hopper", email = $"grace.{Guid.NewGuid():N}@example.fr" }, ct);
        Assert.Equal(HttpStatusCode.Created, nextCustomer.StatusCode);
        using var otherShop = await fixture.Client.GetAsync(new Uri($"/api/v1/merchants/{other.Slug}/cards/{memberId}", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.NotFound, otherShop.StatusCode);

        // The route only reads: nothing else is public under it.
        using var write = await fixture.Client.PutAsJsonAsync($"/api/v1/merchants/{shop.Slug}/cards/{memberId}", new { points = 1000 }, ct);
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
    }
}
