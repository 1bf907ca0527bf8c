using System.Net;
using System.Text.Json;
using Fidpass.Contracts.Merchants;
using Fidpass.Contracts.Payments;
using Fidpass.Loyalty.Payments;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>The day's totals of the web space's overview, and the member's public card.</summary>
public sealed class DayTotalsAndCardTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IBus Bus => fixture.Host.Services.GetRequiredService<IBus>();

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await response.BodyAsync()).GetProperty("code").GetString());
    }

    private static PaymentCollected Payment(TestMerchant merchant, Guid? member, long cents, PaymentMethod method) =>
        new("pi_" + Guid.NewGuid().ToString("N"), merchant.Id, cents, "eur", method, "tmr_test", member, null, DateTimeOffset.UtcNow);

    private Task Stored<T>(string id)
        where T : notnull => Eventually.True(async () =>
    {
        await using var session = fixture.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return await session.LoadAsync<T>(id, Ct) is not null;
    }, what: $"{typeof(T).Name} {id} stored");

    private static async Task<JsonElement> TotalsAsync(TestMerchant merchant, string query = "")
    {
        using var client = merchant.Client();
        using var response = await client.GetAsync($"/api/v1/merchants/{merchant.Slug}/day-totals{query}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.BodyAsync();
    }

    private static long At(JsonElement e, params string[] path) => path.Aggregate(e, (at, name) => at.GetProperty(name)).GetInt64();

    [Fact]
    public async Task A_credit_cancelled_from_the_till_is_not_counted_in_the_days_totals()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        using var client = merchant.Client();
        var operations = new List<Guid>();
        foreach (var points in new[] { 20, 19, 5, 4, 5 })
        {
            using var scan = await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/scans",
                new StringContent($$"""{"barcode":"{{member}}","points":{{points}}}""", System.Text.Encoding.UTF8, "application/json"), Ct);
            operations.Add((await scan.BodyAsync()).GetProperty("operationId").GetGuid());
        }

        // The cashier keyed two wrong amounts and cancelled them at the till.
        foreach (var wrong in operations.Take(2))
        {
            using var reversal = await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/operations/{wrong}/reversal", null, Ct);
            Assert.Equal(HttpStatusCode.OK, reversal.StatusCode);
        }

        var totals = await TotalsAsync(merchant);
        Assert.Equal((14L, 3L, 39L), (At(totals, "points", "credited"), At(totals, "points", "credits"), At(totals, "points", "reversed")));
        Assert.Equal(14, await merchant.BalanceAsync(member));
    }

    [Fact]
    public async Task The_days_totals_count_the_merchants_credits_card_and_cash_payments_and_refunds_exactly()
    {
        var merchant = fixture.NewMerchant();
        var other = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        var otherMember = await other.EnrolAsync();

        // Default program: 1 point per euro.
        (await merchant.ScanAsync($$"""{"barcode":"{{member}}","amount_eur":"12.50"}""")).EnsureSuccessStatusCode();
        (await other.ScanAsync($$"""{"barcode":"{{otherMember}}","amount_eur":"99.00"}""")).EnsureSuccessStatusCode();
        var card = Payment(merchant, member, 2_390, PaymentMethod.Card);
        var cash = Payment(merchant, null, 1_000, PaymentMethod.Cash);
        var foreignCash = Payment(other, null, 4_200, PaymentMethod.Cash);
        foreach (var payment in new[] { card, cash, foreignCash })
        {
            await Bus.Publish(payment, Ct);
            await Stored<PaymentRecord>(PaymentRecord.DocumentId(payment.MerchantId, payment.PaymentId));
        }

        var refund = new PaymentRefunded("re_" + Guid.NewGuid().ToString("N"), card.PaymentId, merchant.Id, 500, "eur", DateTimeOffset.UtcNow);
        await Bus.Publish(refund, Ct);
        await Stored<RefundRecord>(RefundRecord.DocumentId(merchant.Id, refund.RefundId));

        var totals = await TotalsAsync(merchant);
        var parisToday = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris")).DateTime);
        Assert.Equal(parisToday.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), totals.GetProperty("day").GetString());
        Assert.Equal("eur", totals.GetProperty("currency").GetString());
        Assert.Equal(12 + 23 - 4, At(totals, "points", "credited")); // the 5 € refund took back floor(23 × 5 / 23,90) = 4
        Assert.Equal(4, At(totals, "points", "reversed"));
        Assert.Equal(2, At(totals, "points", "credits"));
        Assert.Equal(1, At(totals, "points", "creditsFromPayments"));
        Assert.Equal(2, At(totals, "payments", "count"));
        Assert.Equal(3_390, At(totals, "payments", "amountCents"));
        Assert.Equal(1, At(totals, "payments", "card", "count"));
        Assert.Equal(2_390, At(totals, "payments", "card", "amountCents"));
        Assert.Equal(1, At(totals, "payments", "cash", "count"));
        Assert.Equal(1_000, At(totals, "payments", "cash", "amountCents"));
        Assert.Equal(1, At(totals, "refunds", "count"));
        Assert.Equal(500, At(totals, "refunds", "amountCents"));

        // Each merchant sees its own day only.
        var theirs = await TotalsAsync(other);
        Assert.Equal(99, At(theirs, "points", "credited"));
        Assert.Equal(4_200, At(theirs, "payments", "cash", "amountCents"));
        Assert.Equal(0, At(theirs, "payments", "card", "count"));
        Assert.Equal(0, At(theirs, "refunds", "count"));

        // Another day of the same merchant is empty.
        var yesterday = await TotalsAsync(merchant, "?day=" + parisToday.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, At(yesterday, "points", "credited"));
        Assert.Equal(0, At(yesterday, "payments", "count"));
    }

    [Theory]
    [InlineData("?day=14/03/2025")]
    [InlineData("?day=2025-02-30")]
    [InlineData("?day=")]
    [InlineData("?day=2025-03-14&day=2025-03-15")]
    public async Task A_malformed_day_is_refused_with_a_problem(string query)
    {
        var merchant = fixture.NewMerchant();
        using var client = merchant.Client();
        await AssertProblem(await client.GetAsync($"/api/v1/merchants/{merchant.Slug}/day-totals{query}", Ct), HttpStatusCode.BadRequest, "invalid_day");
    }

    [Fact]
    public async Task Day_totals_need_the_merchants_own_identity_and_the_members_scope()
    {
        var merchant = fixture.NewMerchant();
        var other = fixture.NewMerchant();
        using var foreign = other.Client();
        await AssertProblem(await foreign.GetAsync($"/api/v1/merchants/{merchant.Slug}/day-totals", Ct), HttpStatusCode.Unauthorized, "unauthenticated");
        using var anonymous = merchant.Client(GatewayIdentity.Anonymous);
        await AssertProblem(await anonymous.GetAsync($"/api/v1/merchants/{merchant.Slug}/day-totals", Ct), HttpStatusCode.Unauthorized, "unauthenticated");
        using var scanKey = merchant.Client(GatewayIdentity.IntegrationKey, "scan");
        await AssertProblem(await scanKey.GetAsync($"/api/v1/merchants/{merchant.Slug}/day-totals", Ct), HttpStatusCode.Forbidden, "forbidden_scope");
    }

    [Fact]
    public async Task The_public_card_shows_the_merchants_name_the_first_name_and_the_live_balance_and_nothing_else()
    {
        var merchant = fixture.NewMerchant();
        var email = $"{Guid.NewGuid():N}@example.fr";
        var member = await merchant.EnrolAsync("Jeanne Martin", email);
        await Bus.Publish(new MerchantRegistered(merchant.Id, merchant.Slug, "Café Dupont", "contact@cafe-dupont.fr", DateTimeOffset.UtcNow), Ct);
        (await merchant.ScanAsync($$"""{"barcode":"{{member}}","amount_eur":"7.90"}""")).EnsureSuccessStatusCode();

        using var anonymous = merchant.Client(GatewayIdentity.Anonymous);
        var card = await Eventually.Get(async () =>
        {
            using var response = await anonymous.GetAsync($"/api/v1/merchants/{merchant.Slug}/cards/{member}", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync(Ct);
        }, body => body.Contains("Café Dupont", StringComparison.Ordinal), what: "the card naming its merchant");
        var json = JsonDocument.Parse(card).RootElement;
        Assert.Equal("Café Dupont", json.GetProperty("merchant").GetProperty("name").GetString());
        Assert.Equal("Jeanne", json.GetProperty("member").GetProperty("firstName").GetString());
        Assert.Equal(7, json.GetProperty("member").GetProperty("points").GetInt64());
        Assert.DoesNotContain(email, card, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Martin", card, StringComparison.Ordinal);
        Assert.DoesNotContain("email", card, StringComparison.OrdinalIgnoreCase);

        (await merchant.ScanAsync($$"""{"barcode":"{{member}}","points":5}""")).EnsureSuccessStatusCode();
        using var after = await anonymous.GetAsync($"/api/v1/merchants/{merchant.Slug}/cards/{member}", Ct);
        Assert.Equal(12, (await after.BodyAsync()).GetProperty("member").GetProperty("points").GetInt64());
    }

    [Fact]
    public async Task A_card_of_another_merchant_an_unknown_or_erased_member_is_404_and_a_malformed_id_400()
    {
        var merchant = fixture.NewMerchant();
        var other = fixture.NewMerchant();
        var theirs = await other.EnrolAsync();
        var erased = await merchant.EnrolAsync();
        using (var manager = merchant.Client())
        {
            (await manager.DeleteAsync($"/api/v1/merchants/{merchant.Slug}/members/{erased}", Ct)).EnsureSuccessStatusCode();
        }

        using var anonymous = merchant.Client(GatewayIdentity.Anonymous);
        await AssertProblem(await anonymous.GetAsync($"/api/v1/merchants/{merchant.Slug}/cards/{theirs}", Ct), HttpStatusCode.NotFound, "member_not_found");
        await AssertProblem(await anonymous.GetAsync($"/api/v1/merchants/{merchant.Slug}/cards/{Guid.NewGuid()}", Ct), HttpStatusCode.NotFound, "member_not_found");
        await AssertProblem(await anonymous.GetAsync($"/api/v1/merchants/{merchant.Slug}/cards/{erased}", Ct), HttpStatusCode.NotFound, "member_not_found");
        await AssertProblem(await anonymous.GetAsync($"/api/v1/merchants/{merchant.Slug}/cards/pas-un-uuid", Ct), HttpStatusCode.BadRequest, "invalid_member_id");

        // The gateway's identity names the merchant: another slug in the path finds nothing.
        using var misrouted = other.Client(GatewayIdentity.Anonymous);
        await AssertProblem(await misrouted.GetAsync($"/api/v1/merchants/{merchant.Slug}/cards/{erased}", Ct), HttpStatusCode.NotFound, "member_not_found");
    }
}
