using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fidpass.Loyalty.Programs;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using LoyaltyContracts = Fidpass.Contracts.Loyalty;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>Rewards at the till: the programme's catalogue, redeeming a reward by its id, and the v1 lookup.</summary>
public sealed class RewardCatalogueTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await response.BodyAsync()).GetProperty("code").GetString());
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string? json, string? key = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await client.SendAsync(request, Ct);
    }

    private static string Rewards(TestMerchant merchant) => $"/api/v1/merchants/{merchant.Slug}/program/rewards";

    private static async Task<Guid> AddAsync(HttpClient client, TestMerchant merchant, string name, long points)
    {
        var response = await client.PostAsJsonAsync(Rewards(merchant), new { name, points }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.BodyAsync()).GetProperty("id").GetGuid();
    }

    private static async Task<string[]> ListAsync(HttpClient client, TestMerchant merchant) =>
        [.. (await client.GetFromJsonAsync<JsonElement>(Rewards(merchant), Ct)).GetProperty("items").EnumerateArray()
            .Select(r => $"{r.GetProperty("name").GetString()}:{r.GetProperty("points").GetInt64()}")];

    [Fact]
    public async Task Bad_catalogue_input_is_refused_with_a_stable_code_and_changes_nothing()
    {
        var merchant = fixture.NewMerchant();
        using var client = merchant.Client();
        var coffee = await AddAsync(client, merchant, "  Café offert ", 10);

        foreach (var (json, code) in new[]
                 {
                     ("""{"name":"","points":10}""", "invalid_reward_name"),
                     ("""{"points":10}""", "invalid_reward_name"),
                     ($$"""{"name":"{{new string('x', 201)}}","points":10}""", "invalid_reward_name"),
                     ("""{"name":"Croissant","points":0}""", "invalid_points"),
                     ("""{"name":"Croissant","points":-5}""", "invalid_points"),
                     ("""{"name":"Croissant","points":1.5}""", "invalid_points"),
                     ("""{"name":"Croissant","points":"10"}""", "invalid_points"),
                     ("""{"name":"Croissant"}""", "invalid_points"),
                     ("pas du json", "invalid_json"),
                     ("[]", "invalid_json"),
                 })
        {
            await AssertProblem(await SendAsync(client, HttpMethod.Post, Rewards(merchant), json), HttpStatusCode.BadRequest, code);
            await AssertProblem(await SendAsync(client, HttpMethod.Put, $"{Rewards(merchant)}/{coffee}", json), HttpStatusCode.BadRequest, code);
        }

        await AssertProblem(await client.PutAsJsonAsync($"{Rewards(merchant)}/{Guid.NewGuid()}", new { name = "X", points = 1 }, Ct), HttpStatusCode.NotFound, "reward_not_found");
        await AssertProblem(await client.PutAsJsonAsync($"{Rewards(merchant)}/pas-un-id", new { name = "X", points = 1 }, Ct), HttpStatusCode.NotFound, "reward_not_found");
        await AssertProblem(await client.DeleteAsync($"{Rewards(merchant)}/{Guid.NewGuid()}", Ct), HttpStatusCode.NotFound, "reward_not_found");
        Assert.Equal(["Café offert:10"], await ListAsync(client, merchant));

        // Another merchant's reward is unknown here.
        var other = fixture.NewMerchant();
        using var otherClient = other.Client();
        await AssertProblem(await otherClient.DeleteAsync($"{Rewards(other)}/{coffee}", Ct), HttpStatusCode.NotFound, "reward_not_found");

        using var scanKey = merchant.Client(GatewayIdentity.IntegrationKey, "scan");
        await AssertProblem(await scanKey.PostAsJsonAsync(Rewards(merchant), new { name = "X", points = 1 }, Ct), HttpStatusCode.Forbidden, "forbidden_scope");
        using var lookupKey = merchant.Client(GatewayIdentity.IntegrationKey, "lookup");
        Assert.Equal(HttpStatusCode.OK, (await lookupKey.GetAsync(Rewards(merchant), Ct)).StatusCode);
        await AssertProblem(await lookupKey.DeleteAsync($"{Rewards(merchant)}/{coffee}", Ct), HttpStatusCode.Forbidden, "forbidden_scope");

        // At most 50 rewards: the 51st is refused until one is withdrawn.
        for (var i = 2; i <= RewardCatalogue.MaxRewards; i++)
        {
            await AddAsync(client, merchant, $"Récompense {i}", 100 + i);
        }

        await AssertProblem(await client.PostAsJsonAsync(Rewards(merchant), new { name = "Une de trop", points = 5 }, Ct), HttpStatusCode.Conflict, "reward_catalogue_full");
        (await client.DeleteAsync($"{Rewards(merchant)}/{coffee}", Ct)).EnsureSuccessStatusCode();
        await AddAsync(client, merchant, "Une de trop", 5);
        Assert.Equal(RewardCatalogue.MaxRewards, (await ListAsync(client, merchant)).Length);
    }

    [Fact]
    public async Task Each_change_is_published_once_even_when_the_request_is_sent_again()
    {
        var merchant = fixture.NewMerchant();
        using var client = merchant.Client(GatewayIdentity.IntegrationKey, "program");
        var received = new ConcurrentQueue<LoyaltyContracts.RewardOfferChanged>();
        var listener = MassTransit.Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(fixture.RabbitMq));
            bus.ReceiveEndpoint("test-reward-offers-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<LoyaltyContracts.RewardOfferChanged>(context =>
                {
                    if (context.Message.MerchantId == merchant.Id)
                    {
                        received.Enqueue(context.Message);
                    }

                    return Task.CompletedTask;
                });
            });
        });
        await listener.StartAsync(Ct);
        try
        {
            // A till that timed out sends each change again, several times and at once.
            var key = "ajout-" + Guid.NewGuid().ToString("N");
            var adds = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
                SendAsync(client, HttpMethod.Post, Rewards(merchant), """{"name":"Café offert","points":10}""", key)));
            var bodies = await Task.WhenAll(adds.Select(a => a.Content.ReadAsStringAsync(Ct)));
            Assert.All(adds, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
            Assert.Single(bodies.Distinct());
            var coffee = JsonDocument.Parse(bodies[0]).RootElement.GetProperty("id").GetGuid();
            await AssertProblem(await SendAsync(client, HttpMethod.Post, Rewards(merchant), """{"name":"Thé offert","points":10}""", key),
                HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");

            var renameKey = "prix-" + Guid.NewGuid().ToString("N");
            for (var i = 0; i < 2; i++)
            {
                var renamed = await SendAsync(client, HttpMethod.Put, $"{Rewards(merchant)}/{coffee}", """{"name":"Grand café offert","points":12}""", renameKey);
                Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
            }

            // The same values again, without a key: nothing changes, nothing is published.
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Put, $"{Rewards(merchant)}/{coffee}", """{"name":"Grand café offert","points":12}""")).StatusCode);

            var withdrawKey = "retrait-" + Guid.NewGuid().ToString("N");
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Delete, $"{Rewards(merchant)}/{coffee}", null, withdrawKey)).StatusCode);
            }

            Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"{Rewards(merchant)}/{coffee}", Ct)).StatusCode);
            await AssertProblem(await client.PutAsJsonAsync($"{Rewards(merchant)}/{coffee}", new { name = "Café", points = 10 }, Ct), HttpStatusCode.Conflict, "reward_withdrawn");
            Assert.Empty(await ListAsync(client, merchant));

            // A later change, published after the ones above: once it has arrived, so would any copy.
            var marker = await AddAsync(client, merchant, "Croissant", 5);
            await Eventually.True(() => Task.FromResult(received.Any(m => m.RewardId == marker)), TimeSpan.FromSeconds(60), "the marker reward published");
            await Eventually.True(() => Task.FromResult(received.Count(m => m.RewardId == coffee) >= 3), TimeSpan.FromSeconds(60), "three changes of the coffee published");

            var coffeeChanges = received.Where(m => m.RewardId == coffee).OrderBy(m => m.OccurredAt).ToList();
            Assert.Equal(
                [("Café offert", 10L, false), ("Grand café offert", 12L, false), ("Grand café offert", 12L, true)],
                coffeeChanges.Select(m => (m.Name, m.Points, m.Withdrawn)).ToList());

            // And the store holds exactly one event per change: the relay publishes each stored event once (message id = event id).
            await using var session = fixture.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
            var stream = await session.Events.FetchStreamAsync(RewardCatalogue.StreamId(merchant.Id), token: Ct);
            Assert.Equal(["RewardAdded", "RewardChanged", "RewardWithdrawn", "RewardAdded"], stream.Select(e => e.Data.GetType().Name).ToArray());
        }
        finally
        {
            await listener.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task A_catalogue_reward_is_redeemed_by_its_id_once()
    {
        var merchant = fixture.NewMerchant();
        using var manager = merchant.Client();
        var coffee = await AddAsync(manager, merchant, "Café offert", 15);
        var lunch = await AddAsync(manager, merchant, "Menu offert", 100);
        var gone = await AddAsync(manager, merchant, "Ancienne offre", 1);
        (await manager.DeleteAsync($"{Rewards(merchant)}/{gone}", Ct)).EnsureSuccessStatusCode();
        var id = await merchant.EnrolAsync();
        (await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":20}""")).EnsureSuccessStatusCode();
        using var till = merchant.Client(GatewayIdentity.IntegrationKey, "members");
        var path = $"/api/v1/merchants/{merchant.Slug}/members/{id}/redemptions";

        await AssertProblem(await SendAsync(till, HttpMethod.Post, path, $$"""{"rewardId":"{{Guid.NewGuid()}}"}"""), HttpStatusCode.NotFound, "reward_not_found");
        await AssertProblem(await SendAsync(till, HttpMethod.Post, path, $$"""{"rewardId":"{{gone}}"}"""), HttpStatusCode.Conflict, "reward_withdrawn");
        await AssertProblem(await SendAsync(till, HttpMethod.Post, path, $$"""{"rewardId":"{{lunch}}"}"""), HttpStatusCode.UnprocessableEntity, "insufficient_points");
        await AssertProblem(await SendAsync(till, HttpMethod.Post, path, """{"rewardId":42}"""), HttpStatusCode.BadRequest, "invalid_redemption");
        await AssertProblem(await SendAsync(till, HttpMethod.Post, path, $$"""{"rewardId":"{{coffee}}","points":1}"""), HttpStatusCode.BadRequest, "invalid_redemption");
        Assert.Equal(20, await merchant.BalanceAsync(id));

        // A double tap at the till: the same key, at once and again, takes the coffee once.
        var key = "cadeau-" + Guid.NewGuid().ToString("N");
        var taps = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => SendAsync(till, HttpMethod.Post, path, $$"""{"rewardId":"{{coffee}}"}""", key)));
        var again = await SendAsync(till, HttpMethod.Post, path, $$"""{"rewardId":"{{coffee}}"}""", key);
        var answers = await Task.WhenAll(taps.Append(again).Select(t => t.Content.ReadAsStringAsync(Ct)));
        Assert.All(taps.Append(again), t => Assert.Equal(HttpStatusCode.OK, t.StatusCode));
        Assert.Single(answers.Distinct());
        var answer = JsonDocument.Parse(answers[0]).RootElement;
        Assert.Equal(5, answer.GetProperty("points").GetInt64());
        Assert.Equal("Café offert", answer.GetProperty("reward").GetProperty("name").GetString());
        Assert.Equal(15, answer.GetProperty("reward").GetProperty("points").GetInt64());
        Assert.Equal(5, await merchant.BalanceAsync(id));

        // The name and price are the catalogue's at the time; the history says which reward was taken.
        var detail = await manager.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/members/{id}", Ct);
        var redeemed = detail.GetProperty("history").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "reward_redeemed").GetProperty("data");
        Assert.Equal("Café offert", redeemed.GetProperty("rewardName").GetString());
        Assert.Equal(coffee, redeemed.GetProperty("rewardId").GetGuid());

        // The free body still works as before.
        var free = await SendAsync(till, HttpMethod.Post, path, """{"points":2,"rewardName":"Cookie"}""");
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
        Assert.Equal(3, (await free.BodyAsync()).GetProperty("points").GetInt64());
    }

    [Fact]
    public async Task The_v1_lookup_lists_the_rewards_within_reach_and_the_compat_lookup_keeps_its_body()
    {
        var merchant = fixture.NewMerchant();
        using var manager = merchant.Client();
        var id = await merchant.EnrolAsync("Jeanne Martin", $"jeanne.{Guid.NewGuid():N}@example.fr");
        var lookup = $"/api/v1/merchants/{merchant.Slug}/lookup";
        using var till = merchant.Client(GatewayIdentity.IntegrationKey, "lookup");

        // No catalogue yet: nothing to offer, nothing to aim for.
        var empty = await till.GetFromJsonAsync<JsonElement>($"{lookup}?barcode={id}", Ct);
        Assert.Empty(empty.GetProperty("rewards").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("nextReward").ValueKind);

        await AddAsync(manager, merchant, "Menu offert", 50);
        var coffee = await AddAsync(manager, merchant, "Café offert", 10);
        await AddAsync(manager, merchant, "Dessert offert", 30);
        (await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":35}""")).EnsureSuccessStatusCode();

        var body = await till.GetFromJsonAsync<JsonElement>($"{lookup}?barcode={Uri.EscapeDataString($"https://fidpass.fr/carte/{id.ToString().ToUpperInvariant()}")}", Ct);
        Assert.Equal(id, body.GetProperty("member").GetProperty("id").GetGuid());
        Assert.Equal(35, body.GetProperty("member").GetProperty("points").GetInt64());
        Assert.Equal(
            ["Café offert:10", "Dessert offert:30"],
            body.GetProperty("rewards").EnumerateArray().Select(r => $"{r.GetProperty("name").GetString()}:{r.GetProperty("points").GetInt64()}").ToArray());
        Assert.Equal(coffee, body.GetProperty("rewards")[0].GetProperty("id").GetGuid());
        var next = body.GetProperty("nextReward");
        Assert.Equal(("Menu offert", 50L, 15L), (next.GetProperty("name").GetString(), next.GetProperty("points").GetInt64(), next.GetProperty("missingPoints").GetInt64()));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("nextExpiry").ValueKind);

        // The programme's expiry shows in the lookup too.
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, pointsExpiry = new { policy = "inactivity", months = 6 } });
        var withExpiry = await till.GetFromJsonAsync<JsonElement>($"{lookup}?barcode={id}", Ct);
        Assert.Equal(35, withExpiry.GetProperty("nextExpiry").GetProperty("points").GetInt64());

        await AssertProblem(await till.GetAsync($"{lookup}?barcode={Guid.NewGuid()}", Ct), HttpStatusCode.NotFound, "member_not_found");
        await AssertProblem(await till.GetAsync(lookup, Ct), HttpStatusCode.BadRequest, "barcode_missing");
        using var programKey = merchant.Client(GatewayIdentity.IntegrationKey, "program");
        await AssertProblem(await programKey.GetAsync($"{lookup}?barcode={id}", Ct), HttpStatusCode.Forbidden, "forbidden_scope");

        // The historical lookup answers exactly what installed tills read, rewards or not.
        var compat = await (await till.GetAsync($"/api/businesses/{merchant.Slug}/integration/lookup?barcode={id}", Ct)).Content.ReadAsStringAsync(Ct);
        var member = JsonDocument.Parse(compat).RootElement.GetProperty("member");
        var expected = JsonSerializer.Serialize(new
        {
            member = new
            {
                id,
                name = "Jeanne Martin",
                email = member.GetProperty("email").GetString(),
                points = 35,
                last_visit_at = member.GetProperty("last_visit_at").GetDateTimeOffset(),
            },
        });
        Assert.Equal(expected, compat);
    }
}
