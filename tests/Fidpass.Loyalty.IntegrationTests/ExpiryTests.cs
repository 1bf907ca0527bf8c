using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Fidpass.Loyalty.Expiry;
using Fidpass.Testing;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using LoyaltyContracts = Fidpass.Contracts.Loyalty;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>A loyalty service whose clock the tests move (the ledger's writers and the expiry job read it).</summary>
public sealed class ExpiryFixture : IAsyncLifetime
{
    private static readonly TimeZoneInfo ParisZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2027, 1, 4, 11, 0, 0, TimeSpan.Zero));
    public LoyaltyFixture Loyalty { get; } = new();
    public ExpiryJob Job => Loyalty.Host.Services.GetRequiredService<ExpiryJob>();

    public async ValueTask InitializeAsync() =>
        await Loyalty.InitializeAsync(await TestServers.CreateDatabaseAsync("loyalty_expiry"),
            host => host.WithServices(services => services.AddSingleton<TimeProvider>(Clock)));

    public async ValueTask DisposeAsync() => await Loyalty.DisposeAsync();

    /// <summary>The Paris day the clock is in.</summary>
    public DateOnly Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(Clock.GetUtcNow(), ParisZone).DateTime);

    /// <summary>Moves the clock forward to <paramref name="time"/> on a Paris day (the clock never goes back, so each test starts from where the last one left it).</summary>
    public void MoveTo(DateOnly day, TimeOnly time)
    {
        var local = day.ToDateTime(time);
        Clock.SetUtcNow(new DateTimeOffset(local, ParisZone.GetUtcOffset(local)));
    }
}

/// <summary>
/// Expiry against the real PostgreSQL and RabbitMQ: the programme's rule, the job on its day (never
/// the day before), oldest points first, exactly once, published once, and balances that a rebuild
/// from the events gives again.
/// </summary>
public sealed class ExpiryTests(ExpiryFixture fixture) : IClassFixture<ExpiryFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestMerchant NewMerchant()
    {
        // Start each test at noon of the next day, whatever the previous test left the clock at.
        fixture.MoveTo(fixture.Today.AddDays(1), new TimeOnly(12, 0));
        return fixture.Loyalty.NewMerchant();
    }

    private static async Task ScanAsync(TestMerchant merchant, Guid member, long points) =>
        (await merchant.ScanAsync($$"""{"barcode":"{{member}}","points":{{points}}}""")).EnsureSuccessStatusCode();

    private static async Task<JsonElement> DetailAsync(TestMerchant merchant, Guid member)
    {
        using var client = merchant.Client();
        return await client.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/members/{member}", Ct);
    }

    private static async Task<JsonElement> CardAsync(TestMerchant merchant, Guid member)
    {
        using var client = merchant.Client(Fidpass.ServiceDefaults.GatewayIdentity.Anonymous);
        return await client.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/cards/{member}", Ct);
    }

    private static (long Points, DateOnly On)? NextExpiry(JsonElement next) =>
        next.ValueKind == JsonValueKind.Null ? null : (next.GetProperty("points").GetInt64(), DateOnly.Parse(next.GetProperty("on").GetString()!, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Waits for the job's own timer to act: the clock moves on a minute per look, so a pass that was
    /// still running when the test moved the clock schedules its next one within reach.
    /// </summary>
    private async Task JobDoesAsync(Func<Task<bool>> done, string what) => await Eventually.True(async () =>
    {
        fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        return await done();
    }, within: TimeSpan.FromSeconds(60), what: what);

    private static List<JsonElement> Expiries(JsonElement detail) =>
        [.. detail.GetProperty("history").EnumerateArray().Where(h => h.GetProperty("type").GetString() == "points_expired")];

    [Fact]
    public async Task Points_expire_after_months_without_activity_on_the_due_day_and_not_the_day_before()
    {
        var merchant = NewMerchant();
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, pointsExpiry = new { policy = "inactivity", months = 2 } });
        // The last activity comes later than the rule, so the due day is the member's own.
        fixture.MoveTo(fixture.Today.AddDays(10), new TimeOnly(12, 0));
        var member = await merchant.EnrolAsync();
        await ScanAsync(merchant, member, 25);
        var due = fixture.Today.AddMonths(2);
        Assert.Equal((25, due), NextExpiry((await DetailAsync(merchant, member)).GetProperty("nextExpiry")));
        Assert.Equal((25, due), NextExpiry((await CardAsync(merchant, member)).GetProperty("member").GetProperty("nextExpiry")));

        fixture.MoveTo(due.AddDays(-1), new TimeOnly(23, 59));
        await fixture.Job.ExpireDueAsync(Ct);
        Assert.Equal(25, await merchant.BalanceAsync(member));

        // Past midnight the job's own timer (15 minutes of the test's clock) runs a pass.
        fixture.MoveTo(due, new TimeOnly(0, 20));
        await JobDoesAsync(async () => await merchant.BalanceAsync(member) == 0, "the job expires the balance on its day");

        var detail = await DetailAsync(merchant, member);
        var expired = Assert.Single(Expiries(detail)).GetProperty("data");
        Assert.Equal((25, 0, "inactivity", due.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
            (expired.GetProperty("points").GetInt64(), expired.GetProperty("newBalance").GetInt64(), expired.GetProperty("rule").GetString(), expired.GetProperty("dueOn").GetString()));
        Assert.Equal(JsonValueKind.Null, detail.GetProperty("nextExpiry").ValueKind);
    }

    [Fact]
    public async Task By_age_the_oldest_points_expire_first_and_a_reward_in_between_spends_the_oldest()
    {
        var merchant = NewMerchant();
        var (member, first, second, third) = await AgeScenarioAsync(merchant);

        // The reward took the first day's 10 points and 5 of the second day's 20.
        Assert.Equal((15, second.AddMonths(3)), NextExpiry((await DetailAsync(merchant, member)).GetProperty("nextExpiry")));
        fixture.MoveTo(first.AddMonths(3), new TimeOnly(12, 0));
        await fixture.Job.ExpireDueAsync(Ct);
        Assert.Equal(22, await merchant.BalanceAsync(member));

        fixture.MoveTo(second.AddMonths(3).AddDays(-1), new TimeOnly(23, 59));
        await fixture.Job.ExpireDueAsync(Ct);
        Assert.Equal(22, await merchant.BalanceAsync(member));

        fixture.MoveTo(second.AddMonths(3), new TimeOnly(0, 20));
        await JobDoesAsync(async () => await merchant.BalanceAsync(member) == 7, "the second day's points expire on their day");
        var expired = Assert.Single(Expiries(await DetailAsync(merchant, member))).GetProperty("data");
        Assert.Equal((15, "age"), (expired.GetProperty("points").GetInt64(), expired.GetProperty("rule").GetString()));
        Assert.Equal((7, third.AddMonths(3)), NextExpiry((await CardAsync(merchant, member)).GetProperty("member").GetProperty("nextExpiry")));
    }

    /// <summary>Age rule of 3 months; 10 points on a first day, 20 ten days later, a reward of 15, 7 points ten days after.</summary>
    private async Task<(Guid Member, DateOnly First, DateOnly Second, DateOnly Third)> AgeScenarioAsync(TestMerchant merchant)
    {
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, pointsExpiry = new { policy = "age", months = 3 } });
        var member = await merchant.EnrolAsync();
        var first = fixture.Today;
        await ScanAsync(merchant, member, 10);
        fixture.MoveTo(first.AddDays(10), new TimeOnly(12, 0));
        await ScanAsync(merchant, member, 20);
        fixture.MoveTo(first.AddDays(15), new TimeOnly(12, 0));
        using (var client = merchant.Client())
        {
            (await client.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/members/{member}/redemptions", new { rewardName = "Café offert", points = 15 }, Ct))
                .EnsureSuccessStatusCode();
        }

        fixture.MoveTo(first.AddDays(20), new TimeOnly(12, 0));
        await ScanAsync(merchant, member, 7);
        return (member, first, first.AddDays(10), first.AddDays(20));
    }

    [Fact]
    public async Task Passes_run_twice_and_concurrently_expire_once_and_the_contract_event_is_published_once()
    {
        var merchant = NewMerchant();
        var received = Channel.CreateUnbounded<object>();
        var listener = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(fixture.Loyalty.RabbitMq));
            bus.ReceiveEndpoint("test-points-expired-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<LoyaltyContracts.PointsExpired>(context => received.Writer.WriteAsync(context.Message).AsTask());
                endpoint.Handler<LoyaltyContracts.PointsCredited>(context => received.Writer.WriteAsync(context.Message).AsTask());
            });
        });
        await listener.StartAsync(Ct);
        try
        {
            await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, pointsExpiry = new { policy = "inactivity", months = 1 } });
            var member = await merchant.EnrolAsync();
            await ScanAsync(merchant, member, 9);
            var due = fixture.Today.AddMonths(1);

            fixture.MoveTo(due, new TimeOnly(9, 0));
            var job = fixture.Job;
            await Task.WhenAll(job.RunOnceAsync(Ct), job.RunOnceAsync(Ct), job.ExpireDueAsync(Ct), job.ExpireDueAsync(Ct), job.ExpireDueAsync(Ct));
            await job.ExpireDueAsync(Ct);
            await job.RunOnceAsync(Ct);

            Assert.Equal(0, await merchant.BalanceAsync(member));
            var stored = Assert.Single(Expiries(await DetailAsync(merchant, member))).GetProperty("data");

            // A credit after the expiry: once both are on the bus (the relay may publish a page's
            // messages in any order), anything the relay published twice would have arrived too;
            // a few more seconds of listening catch a late copy.
            await ScanAsync(merchant, member, 4);
            var expiries = new List<LoyaltyContracts.PointsExpired>();
            var credited = false;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                while (!(credited && expiries.Count > 0))
                {
                    Collect(await received.Reader.ReadAsync(timeout.Token));
                }
            }

            using (var linger = CancellationTokenSource.CreateLinkedTokenSource(Ct))
            {
                linger.CancelAfter(TimeSpan.FromSeconds(3));
                try
                {
                    while (true)
                    {
                        Collect(await received.Reader.ReadAsync(linger.Token));
                    }
                }
                catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
                {
                    // Nothing more came.
                }
            }

            void Collect(object message)
            {
                if (message is LoyaltyContracts.PointsExpired e && e.MemberId == member)
                {
                    expiries.Add(e);
                }
                else if (message is LoyaltyContracts.PointsCredited { Points: 4 } c && c.MemberId == member)
                {
                    credited = true;
                }
            }

            var published = Assert.Single(expiries);
            Assert.Equal(stored.GetProperty("operationId").GetGuid(), published.OperationId);
            Assert.Equal((merchant.Id, 9L, 0L, LoyaltyContracts.PointsExpiryRule.Inactivity, due), (published.MerchantId, published.Points, published.NewBalance, published.Rule, published.DueOn));
            Assert.Equal(4, await merchant.BalanceAsync(member));
        }
        finally
        {
            await listener.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task Rebuilding_the_member_and_its_lots_from_the_events_gives_the_same_balances()
    {
        var merchant = NewMerchant();
        var (member, _, second, _) = await AgeScenarioAsync(merchant);
        fixture.MoveTo(second.AddMonths(3), new TimeOnly(8, 0));
        await fixture.Job.ExpireDueAsync(Ct);
        var before = await DetailAsync(merchant, member);
        Assert.Equal(7, before.GetProperty("member").GetProperty("points").GetInt64());

        var store = fixture.Loyalty.Host.Services.GetRequiredService<IDocumentStore>();
        await using (var session = store.LightweightSession())
        {
            // Wrong documents, so only the rebuild can put the right ones back.
            session.Store(PointLots.Empty(member, merchant.Id));
            session.Store((await session.LoadAsync<Members.Member>(member, Ct))! with { Points = 1_000 });
            await session.SaveChangesAsync(Ct);
        }

        await store.Advanced.RebuildSingleStreamAsync<Members.Member>(member, Ct);
        await store.Advanced.RebuildSingleStreamAsync<PointLots>(member, Ct);

        var after = await DetailAsync(merchant, member);
        Assert.Equal(before.GetProperty("member").GetRawText(), after.GetProperty("member").GetRawText());
        Assert.Equal(before.GetProperty("nextExpiry").GetRawText(), after.GetProperty("nextExpiry").GetRawText());
        var folded = after.GetProperty("history").EnumerateArray().Sum(h => h.GetProperty("type").GetString() switch
        {
            "points_credited" => h.GetProperty("data").GetProperty("points").GetInt64(),
            "reward_redeemed" or "points_expired" => -h.GetProperty("data").GetProperty("points").GetInt64(),
            _ => 0,
        });
        Assert.Equal(7, folded);
        await using var query = store.QuerySession();
        Assert.Equal(7, (await query.LoadAsync<PointLots>(member, Ct))!.Total);
    }

    [Fact]
    public async Task Expiry_settings_are_validated_kept_when_sent_again_and_off_by_default()
    {
        var merchant = NewMerchant();
        using var client = merchant.Client();
        var path = $"/api/v1/merchants/{merchant.Slug}/program";
        Assert.Equal(JsonValueKind.Null, (await client.GetFromJsonAsync<JsonElement>(path, Ct)).GetProperty("pointsExpiry").ValueKind);

        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, pointsExpiry = new { policy = "age", months = 12 } });
        var setOn = fixture.Today;
        var saved = (await client.GetFromJsonAsync<JsonElement>(path, Ct)).GetProperty("pointsExpiry").GetRawText();
        Assert.Equal($$"""{"policy":"age","months":12,"since":"{{setOn:yyyy-MM-dd}}"}""", saved);

        foreach (var bad in new[] { "\"soon\"", """{"policy":"age"}""", """{"policy":"age","months":0}""", """{"policy":"forever","months":6}""", """{"policy":"inactivity","months":"6"}""" })
        {
            var response = await client.PutAsync(path, new StringContent($$"""{"type":"points","pointsPerEuro":2,"pointsPerVisit":0,"pointsExpiry":{{bad}}}""",
                System.Text.Encoding.UTF8, "application/json"), Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.BodyAsync();
            Assert.Equal("invalid_program", problem.GetProperty("code").GetString());
            Assert.StartsWith("pointsExpiry : ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var unchanged = await client.GetFromJsonAsync<JsonElement>(path, Ct);
        Assert.Equal(1, unchanged.GetProperty("pointsPerEuro").GetInt64());
        Assert.Equal(saved, unchanged.GetProperty("pointsExpiry").GetRawText());

        // Saving the form again later for another field does not push expiry back.
        fixture.MoveTo(setOn.AddDays(40), new TimeOnly(12, 0));
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 3, pointsPerVisit = 0, pointsExpiry = new { policy = "age", months = 12 } });
        Assert.Equal(saved, (await client.GetFromJsonAsync<JsonElement>(path, Ct)).GetProperty("pointsExpiry").GetRawText());

        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 3, pointsPerVisit = 0, pointsExpiry = new { policy = "age", months = 6 } });
        Assert.Contains($"\"since\":\"{fixture.Today:yyyy-MM-dd}\"", (await client.GetFromJsonAsync<JsonElement>(path, Ct)).GetProperty("pointsExpiry").GetRawText(), StringComparison.Ordinal);
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 3, pointsPerVisit = 0 });
        Assert.Equal(JsonValueKind.Null, (await client.GetFromJsonAsync<JsonElement>(path, Ct)).GetProperty("pointsExpiry").ValueKind);
    }
}
