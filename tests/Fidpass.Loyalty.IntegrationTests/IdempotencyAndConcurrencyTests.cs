using System.Net;
using Fidpass.Testing;

namespace Fidpass.Loyalty.IntegrationTests;

public sealed class IdempotencyAndConcurrencyTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fifty_concurrent_credits_on_one_member_lose_nothing()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        using var client = merchant.Client();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50)
            .Select(i => merchant.ScanAsync($$"""{"barcode":"{{id}}","points":{{(i % 3) + 1}}}""", client: client)));

        foreach (var response in responses)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        }

        var expected = Enumerable.Range(0, 50).Sum(i => (i % 3) + 1);
        Assert.Equal(expected, await merchant.BalanceAsync(id));
        var balances = await Task.WhenAll(responses.Select(async r => (await r.BodyAsync()).GetProperty("new_balance").GetInt64()));
        Assert.Equal(50, balances.Distinct().Count());
    }

    [Fact]
    public async Task Two_replicas_crediting_one_member_at_once_lose_nothing()
    {
        // Two processes on one database: only the stream version (optimistic concurrency) protects
        // the balance here, not the in-process queue.
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        await using var replica = new ServiceHost<LoyaltyApi>().WithInfrastructure(fixture.Postgres, fixture.RabbitMq).With("Marten:Daemon", "Disabled");
        var second = merchant with { Host = replica };
        using var firstClient = merchant.Client();
        using var secondClient = second.Client();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            (i % 2 == 0 ? merchant : second).ScanAsync($$"""{"barcode":"{{id}}","points":1}""", client: i % 2 == 0 ? firstClient : secondClient)));

        foreach (var response in responses)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        }

        Assert.Equal(50, await merchant.BalanceAsync(id));
        Assert.Equal(50, await second.BalanceAsync(id));
    }

    [Fact]
    public async Task The_same_key_replays_the_first_answer_byte_for_byte_and_credits_once()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        var body = $$"""{"barcode":"{{id}}","amount_eur":"12.40"}""";

        var first = await merchant.ScanAsync(body, "till-7-sale-1");
        var second = await merchant.ScanAsync(body, "till-7-sale-1");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(Ct), await second.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(12, await merchant.BalanceAsync(id));

        var reused = await merchant.ScanAsync($$"""{"barcode":"{{id}}","amount_eur":"99.00"}""", "till-7-sale-1");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", (await reused.BodyAsync()).GetProperty("code").GetString());
        Assert.Equal(12, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task Concurrent_retries_with_one_key_credit_once()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        var body = $$"""{"barcode":"{{id}}","points":5}""";

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => merchant.ScanAsync(body, "same-key")));

        var texts = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync(Ct)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(texts.Distinct());
        Assert.Equal(5, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task The_points_route_honours_the_key_too()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        using var client = merchant.Client();

        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/businesses/{merchant.Slug}/members/{id}/points")
            {
                Content = new StringContent("""{"points":4}""", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", "points-1");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request, Ct)).StatusCode);
        }

        Assert.Equal(4, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task A_replay_after_the_service_restarts_still_credits_once()
    {
        var postgres = await TestServers.CreateDatabaseAsync("loyalty_restart");
        var rabbit = await TestServers.CreateVirtualHostAsync("loyalty-restart");
        var merchantId = Guid.NewGuid();
        string firstAnswer;
        Guid memberId;

        await using (var before = new ServiceHost<LoyaltyApi>().WithInfrastructure(postgres, rabbit))
        {
            var merchant = new TestMerchant(before, merchantId, "restart-shop");
            memberId = await merchant.EnrolAsync();
            var response = await merchant.ScanAsync($$"""{"barcode":"{{memberId}}","amount_eur":8}""", "k-restart");
            firstAnswer = await response.Content.ReadAsStringAsync(Ct);
        }

        await using var after = new ServiceHost<LoyaltyApi>().WithInfrastructure(postgres, rabbit);
        var again = new TestMerchant(after, merchantId, "restart-shop");
        var replay = await again.ScanAsync($$"""{"barcode":"{{memberId}}","amount_eur":8}""", "k-restart");

        Assert.Equal(firstAnswer, await replay.Content.ReadAsStringAsync(Ct));
        Assert.Equal(8, await again.BalanceAsync(memberId));
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string? json, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = json is null ? null : new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        return await client.SendAsync(request, Ct);
    }

    [Theory]
    [InlineData("adjustments", """{"points":3,"reason":"Geste commercial"}""", """{"points":4,"reason":"Geste commercial"}""", 23)]
    [InlineData("redemptions", """{"points":5,"rewardName":"Café offert"}""", """{"points":6,"rewardName":"Café offert"}""", 15)]
    public async Task A_balance_change_sent_again_with_the_same_key_applies_once_and_replays_its_answer(string route, string json, string other, long expected)
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        (await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":20}""")).EnsureSuccessStatusCode();
        using var client = merchant.Client(scopes: "members");
        var path = $"/api/v1/merchants/{merchant.Slug}/members/{id}/{route}";
        var key = "till-7-" + Guid.NewGuid().ToString("N");

        // A till that timed out sends again, several times and at once.
        var first = await PostAsync(client, path, json, key);
        var again = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostAsync(client, path, json, key)));
        var reused = await PostAsync(client, path, other, key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var answer = await first.Content.ReadAsStringAsync(Ct);
        foreach (var response in again)
        {
            Assert.Equal((HttpStatusCode.OK, answer), (response.StatusCode, await response.Content.ReadAsStringAsync(Ct)));
        }

        Assert.Equal((HttpStatusCode.UnprocessableEntity, "idempotency_key_reused"), (reused.StatusCode, (await reused.BodyAsync()).GetProperty("code").GetString()));
        Assert.Equal(expected, await merchant.BalanceAsync(id));
        var fresh = await PostAsync(client, path, json, key + "-next");
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    [Fact]
    public async Task A_reversal_sent_again_with_the_same_key_replays_its_answer_instead_of_a_conflict()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        using var client = merchant.Client(scopes: "scan members");
        var scan = await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/scans",
            new StringContent($$"""{"barcode":"{{id}}","points":9}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        var operationId = (await scan.BodyAsync()).GetProperty("operationId").GetGuid();
        var path = $"/api/v1/merchants/{merchant.Slug}/operations/{operationId}/reversal";
        var key = "reversal-" + Guid.NewGuid().ToString("N");

        var first = await PostAsync(client, path, null, key);
        var again = await PostAsync(client, path, null, key);
        var withoutKey = await client.PostAsync(path, null, Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((HttpStatusCode.OK, await first.Content.ReadAsStringAsync(Ct)), (again.StatusCode, await again.Content.ReadAsStringAsync(Ct)));
        Assert.Equal(HttpStatusCode.Conflict, withoutKey.StatusCode);
        Assert.Equal(0, await merchant.BalanceAsync(id));
    }
}
