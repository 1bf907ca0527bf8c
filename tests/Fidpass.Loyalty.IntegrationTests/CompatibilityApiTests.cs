using System.Net;
using System.Net.Http.Json;
using Fidpass.ServiceDefaults;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>Spec section 1: the routes tills in the field call, with their exact statuses and bodies.</summary>
public sealed class CompatibilityApiTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lookup_shows_the_member_for_every_way_a_scanner_reads_the_card()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync("Jeanne Martin", "Jeanne.Martin@Example.fr");
        using var client = merchant.Client();

        foreach (var scanned in new[] { id.ToString(), $"  {id}\n", id.ToString().ToUpperInvariant(), $"https://fidpass.fr/carte/{id}?v=1" })
        {
            var response = await client.GetAsync($"/api/businesses/{merchant.Slug}/integration/lookup?barcode={Uri.EscapeDataString(scanned)}", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var member = (await response.BodyAsync()).GetProperty("member");
            Assert.Equal(id, member.GetProperty("id").GetGuid());
            Assert.Equal("Jeanne Martin", member.GetProperty("name").GetString());
            Assert.Equal("jeanne.martin@example.fr", member.GetProperty("email").GetString());
            Assert.Equal(0, member.GetProperty("points").GetInt64());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, member.GetProperty("last_visit_at").ValueKind);
        }

        await merchant.ScanAsync($$"""{"barcode":"{{id}}","visit":true,"points":2}""");
        var after = (await (await client.GetAsync($"/api/businesses/{merchant.Slug}/integration/lookup?barcode={id}", Ct)).BodyAsync()).GetProperty("member");
        Assert.Equal(2, after.GetProperty("points").GetInt64());
        Assert.True(after.GetProperty("last_visit_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Lookup_refuses_in_the_historical_order_with_the_historical_bodies()
    {
        var merchant = fixture.NewMerchant();
        var other = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        var foreign = await other.EnrolAsync();
        var path = $"/api/businesses/{merchant.Slug}/integration/lookup";

        using var anonymous = fixture.Host.CreateClient();
        var noIdentity = await anonymous.GetAsync($"{path}?barcode={id}", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, noIdentity.StatusCode);
        Assert.Equal("""{"error":"Jeton invalide ou manquant."}""", await noIdentity.Content.ReadAsStringAsync(Ct));

        using var otherSlug = merchant.Client(slug: other.Slug, merchantId: other.Id);
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherSlug.GetAsync($"{path}?barcode={id}", Ct)).StatusCode);

        using var publicCaller = merchant.Client(GatewayIdentity.Anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, (await publicCaller.GetAsync($"{path}?barcode={id}", Ct)).StatusCode);

        using var scanOnlyKey = merchant.Client(GatewayIdentity.IntegrationKey, "scan");
        var forbidden = await scanOnlyKey.GetAsync($"{path}?barcode={id}", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        // The historical body that installed tills read: error (French) and code.
        var refusal = await forbidden.BodyAsync();
        Assert.Equal("FORBIDDEN_SCOPE", refusal.GetProperty("code").GetString());
        Assert.Equal("Cette clé n'a pas le droit « lookup ».", refusal.GetProperty("error").GetString());

        using var lookupKey = merchant.Client(GatewayIdentity.IntegrationKey, "lookup");
        Assert.Equal(HttpStatusCode.OK, (await lookupKey.GetAsync($"{path}?barcode={id}", Ct)).StatusCode);

        using var client = merchant.Client();
        foreach (var query in new[] { "", "?barcode=", "?barcode=%20", $"?barcode={id}&barcode={id}" })
        {
            var response = await client.GetAsync(path + query, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("BARCODE_MISSING", (await response.BodyAsync()).GetProperty("code").GetString());
            Assert.False(string.IsNullOrEmpty((await response.BodyAsync()).GetProperty("error").GetString()));
        }

        foreach (var unknown in new[] { Guid.NewGuid().ToString(), foreign.ToString(), "not-a-card", $"{id} {Guid.NewGuid()}" })
        {
            var response = await client.GetAsync($"{path}?barcode={Uri.EscapeDataString(unknown)}", Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("MEMBER_NOT_FOUND", (await response.BodyAsync()).GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task Scan_computes_points_from_the_merchants_rules_in_integer_cents()
    {
        var merchant = fixture.NewMerchant();
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 2, pointsPerVisit = 3, minAmountEur = 5 });
        var id = await merchant.EnrolAsync("Léa Dubois", "lea@example.fr");

        var response = await merchant.ScanAsync($$"""{"barcode":"{{id}}","amount_eur":"7.90","visit":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.BodyAsync();
        Assert.Equal(18, body.GetProperty("points_added").GetInt64()); // floor(7.90 × 2) + 3
        Assert.Equal(18, body.GetProperty("new_balance").GetInt64());
        Assert.Equal(id, body.GetProperty("member").GetProperty("id").GetGuid());
        Assert.Equal("Léa Dubois", body.GetProperty("member").GetProperty("name").GetString());
        Assert.Equal(18, body.GetProperty("member").GetProperty("points").GetInt64());

        var number = await (await merchant.ScanAsync($$"""{"barcode":"{{id}}","amount_eur":10.99,"points":1}""")).BodyAsync();
        Assert.Equal(22, number.GetProperty("points_added").GetInt64()); // 1 + floor(10.99 × 2)
        Assert.Equal(40, number.GetProperty("new_balance").GetInt64());

        var belowMinimum = await merchant.ScanAsync($$"""{"barcode":"{{id}}","amount_eur":4.99}""");
        Assert.Equal(HttpStatusCode.BadRequest, belowMinimum.StatusCode);
        var refusal = await belowMinimum.BodyAsync();
        Assert.Equal("NO_POINTS_SPECIFIED", refusal.GetProperty("code").GetString());
        Assert.Contains("5,00 €", refusal.GetProperty("error").GetString(), StringComparison.Ordinal);

        var nothing = await merchant.ScanAsync($$"""{"barcode":"{{id}}"}""");
        Assert.Equal("NO_POINTS_SPECIFIED", (await nothing.BodyAsync()).GetProperty("code").GetString());
        Assert.Equal(40, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task A_visit_on_a_stamp_card_counts_at_least_one_stamp()
    {
        var merchant = fixture.NewMerchant();
        await merchant.PutProgramAsync(new { type = "stamps", pointsPerEuro = 0, pointsPerVisit = 0 });
        var id = await merchant.EnrolAsync();

        var body = await (await merchant.ScanAsync($$"""{"barcode":"{{id}}","visit":true}""")).BodyAsync();

        Assert.Equal(1, body.GetProperty("points_added").GetInt64());
    }

    [Theory]
    [InlineData("""{"amount_eur":5}""", 400, "BARCODE_MISSING")]
    [InlineData("""{"barcode":null,"amount_eur":5}""", 400, "BARCODE_MISSING")]
    [InlineData("""{"barcode":12345,"amount_eur":5}""", 400, "BARCODE_MISSING")]
    [InlineData("""{"barcode":{"id":"x"},"amount_eur":5}""", 400, "BARCODE_MISSING")]
    [InlineData("""{"barcode":["a"],"amount_eur":5}""", 400, "BARCODE_MISSING")]
    [InlineData("""{"barcode":"{id}","amount_eur":"abc"}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":-5}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":"-5"}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":"NaN"}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":"Infinity"}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":1e308}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":"1e308"}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":99999999999}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":7.999}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","amount_eur":true}""", 400, "INVALID_AMOUNT")]
    [InlineData("""{"barcode":"{id}","points":0}""", 400, "INVALID_POINTS")]
    [InlineData("""{"barcode":"{id}","points":-3}""", 400, "INVALID_POINTS")]
    [InlineData("""{"barcode":"{id}","points":1.5}""", 400, "INVALID_POINTS")]
    [InlineData("""{"barcode":"{id}","points":"3"}""", 400, "INVALID_POINTS")]
    [InlineData("""{"barcode":"{id}","points":1e30}""", 400, "INVALID_POINTS")]
    [InlineData("""{"barcode":"{id}","visit":"yes"}""", 400, "INVALID_VISIT")]
    [InlineData("""{"barcode":"{id}","amount_eur":NaN}""", 400, "INVALID_JSON")]
    [InlineData("""{"barcode":"{id}",""", 400, "INVALID_JSON")]
    [InlineData("""["{id}"]""", 400, "INVALID_JSON")]
    [InlineData("", 400, "INVALID_JSON")]
    [InlineData("""{"barcode":"{other}","points":3}""", 404, "MEMBER_NOT_FOUND")]
    [InlineData("""{"barcode":"{other}","points":"3"}""", 404, "MEMBER_NOT_FOUND")]
    public async Task Malformed_scans_are_refused_with_their_code_and_change_nothing(string template, int status, string code)
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        var json = template.Replace("{id}", id.ToString(), StringComparison.Ordinal).Replace("{other}", Guid.NewGuid().ToString(), StringComparison.Ordinal);

        var response = await merchant.ScanAsync(json);

        Assert.Equal(status, (int)response.StatusCode);
        var body = await response.BodyAsync();
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("error").GetString()));
        Assert.Equal(0, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task Scan_refuses_callers_before_reading_the_barcode()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();

        using var anonymous = fixture.Host.CreateClient();
        var unauthenticated = await merchant.ScanAsync("""{"barcode":12}""", client: anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal("""{"error":"Jeton invalide ou manquant."}""", await unauthenticated.Content.ReadAsStringAsync(Ct));

        using var lookupKey = merchant.Client(GatewayIdentity.IntegrationKey, "lookup");
        Assert.Equal(HttpStatusCode.Forbidden, (await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":1}""", client: lookupKey)).StatusCode);

        using var scanKey = merchant.Client(GatewayIdentity.IntegrationKey, "scan lookup");
        Assert.Equal(HttpStatusCode.OK, (await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":1}""", client: scanKey)).StatusCode);
        Assert.Equal(1, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task Points_route_credits_a_member_by_id_with_the_same_body_rules()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        using var client = merchant.Client();

        var response = await client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members/{id}/points", new { points = 7 }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","points":7}""", await response.Content.ReadAsStringAsync(Ct));

        var amount = await client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members/{id}/points", new { amount_eur = "3.50" }, Ct);
        Assert.Equal(10, (await amount.BodyAsync()).GetProperty("points").GetInt64());

        foreach (var bad in new object[] { new { points = 0 }, new { points = 1.5 }, new { amount_eur = "abc" }, new { } })
        {
            var refused = await client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members/{id}/points", bad, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var unknown = await client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members/not-a-uuid/points", new { points = 1 }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("MEMBER_NOT_FOUND", (await unknown.BodyAsync()).GetProperty("code").GetString());
        Assert.Equal(10, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task Public_enrolment_creates_once_per_email_and_reuses_afterwards()
    {
        var merchant = fixture.NewMerchant();
        using var client = merchant.Client(GatewayIdentity.Anonymous);
        var path = $"/api/businesses/{merchant.Slug}/members";

        var created = await client.PostAsJsonAsync(path, new { name = "Paul Henri", email = "Paul.Henri@Example.FR" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var first = await created.BodyAsync();
        var id = first.GetProperty("memberId").GetGuid();
        Assert.Equal(id, first.GetProperty("member").GetProperty("id").GetGuid());
        Assert.Equal("paul.henri@example.fr", first.GetProperty("member").GetProperty("email").GetString());
        Assert.Equal("Paul Henri", first.GetProperty("member").GetProperty("name").GetString());
        Assert.Equal(0, first.GetProperty("member").GetProperty("points").GetInt64());

        var again = await client.PostAsJsonAsync(path, new { name = "Paul H.", email = "paul.henri@example.fr" }, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var second = await again.BodyAsync();
        Assert.True(second.GetProperty("reused").GetBoolean());
        Assert.False(second.TryGetProperty("memberId", out _));

        // Same e-mail at another merchant: another member.
        var elsewhere = fixture.NewMerchant();
        using var otherClient = elsewhere.Client(GatewayIdentity.Anonymous);
        var third = await otherClient.PostAsJsonAsync($"/api/businesses/{elsewhere.Slug}/members", new { name = "Paul", email = "paul.henri@example.fr" }, Ct);
        Assert.Equal(HttpStatusCode.Created, third.StatusCode);

        foreach (var bad in new[] { """{"name":"X"}""", """{"email":"a@b.fr"}""", """{"name":"X","email":"pas-un-email"}""", """{"name":12,"email":"a@b.fr"}""", "oops" })
        {
            var refused = await client.PostAsync(path, new StringContent(bad, System.Text.Encoding.UTF8, "application/json"), Ct);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.False(string.IsNullOrEmpty((await refused.BodyAsync()).GetProperty("error").GetString()));
        }

        using var noGateway = fixture.Host.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await noGateway.PostAsJsonAsync(path, new { name = "X", email = "x@y.fr" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task Concurrent_enrolments_of_one_email_make_one_member()
    {
        var merchant = fixture.NewMerchant();
        // A kiosk with the merchant's credentials: every answer names the member.
        var ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => merchant.EnrolAsync("Même Personne", "meme@example.fr", GatewayIdentity.DashboardToken)));
        Assert.Single(ids.Distinct());
    }
}
