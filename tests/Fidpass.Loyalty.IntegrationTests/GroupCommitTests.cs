using System.Net;
using System.Text.Json;
using Fidpass.Loyalty.Crediting;
using Fidpass.Testing;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>
/// Scans arriving together are written together (Loyalty:GroupCommit, on by default): each must still
/// credit its own member once, by its own merchant's rules, with its own answer, and a request that
/// cannot be written must fail alone.
/// </summary>
public sealed class GroupCommitTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scans_for_many_members_of_two_merchants_arriving_together_each_credit_once_and_replay_their_own_answer()
    {
        // Every commit takes 40 ms more, so scans sent together are certain to queue behind one
        // another and be written together, however fast or slow this machine is.
        await using var host = SlowCommitsHost(new SlowCommits());
        var (bakery, florist) = (fixture.NewMerchant() with { Host = host }, fixture.NewMerchant() with { Host = host });
        await bakery.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0 });
        await florist.PutProgramAsync(new { type = "points", pointsPerEuro = 3, pointsPerVisit = 1 });
        var members = new List<(TestMerchant Shop, Guid Id)>();
        for (var i = 0; i < 40; i++)
        {
            var shop = i % 2 == 0 ? bakery : florist;
            members.Add((shop, await shop.EnrolAsync()));
        }

        using var bakeryClient = bakery.Client();
        using var floristClient = florist.Client();
        var scans = Enumerable.Range(0, 200).Select(i => (Member: members[i % 40], Euros: (i % 7) + 1, Key: $"till-{i}")).ToArray();
        Task<HttpResponseMessage> Send((TestMerchant Shop, Guid Id) member, int euros, string key) => member.Shop.ScanAsync(
            $$"""{"barcode":"{{member.Id}}","amount_eur":{{euros}},"visit":true}""", key, member.Shop == bakery ? bakeryClient : floristClient);
        long Earned((TestMerchant Shop, Guid Id) member, int euros) => member.Shop == bakery ? euros : (3 * euros) + 1;
        var batcher = host.Services.GetRequiredService<CreditBatcher>();
        var together = batcher.WrittenTogether;

        var first = await Task.WhenAll(scans.Select(s => Send(s.Member, s.Euros, s.Key)));
        // The replays arrive together with new credits (one more scan per member), in the same batches.
        var second = await Task.WhenAll(scans.Select(s => Send(s.Member, s.Euros, s.Key))
            .Concat(members.Select((m, i) => Send(m, 2, $"next-{i}"))));

        Assert.True(batcher.WrittenTogether > together, "no two credits were written in one transaction");
        var firstBodies = await Task.WhenAll(first.Select(r => r.Content.ReadAsStringAsync(Ct)));
        var secondBodies = await Task.WhenAll(second.Select(r => r.Content.ReadAsStringAsync(Ct)));
        for (var i = 0; i < scans.Length; i++)
        {
            Assert.True(first[i].StatusCode == HttpStatusCode.OK, firstBodies[i]);
            Assert.Equal((HttpStatusCode.OK, firstBodies[i]), (second[i].StatusCode, secondBodies[i]));
            Assert.Equal(Earned(scans[i].Member, scans[i].Euros), JsonDocument.Parse(firstBodies[i]).RootElement.GetProperty("points_added").GetInt64());
        }

        Assert.All(second.Skip(scans.Length), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var member in members)
        {
            var expected = scans.Where(s => s.Member == member).Sum(s => Earned(member, s.Euros)) + Earned(member, 2);
            Assert.Equal(expected, await member.Shop.BalanceAsync(member.Id));
        }
    }

    [Fact]
    public async Task One_member_scanned_many_times_among_other_members_keeps_every_credit_in_order()
    {
        var merchant = fixture.NewMerchant();
        var regular = await merchant.EnrolAsync();
        var others = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            others.Add(await merchant.EnrolAsync());
        }

        using var client = merchant.Client();
        var toRegular = Enumerable.Range(0, 30).Select(_ => merchant.ScanAsync($$"""{"barcode":"{{regular}}","points":2}""", client: client)).ToList();
        var toOthers = others.SelectMany(id => Enumerable.Range(0, 3).Select(_ => merchant.ScanAsync($$"""{"barcode":"{{id}}","points":1}""", client: client))).ToList();
        await Task.WhenAll(toRegular.Concat(toOthers));

        // Each credit saw the one before it: the answers' balances are 2, 4, … 60, each once.
        var balances = new List<long>();
        foreach (var response in toRegular.Select(t => t.Result))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            balances.Add((await response.BodyAsync()).GetProperty("new_balance").GetInt64());
        }

        Assert.Equal(Enumerable.Range(1, 30).Select(i => 2L * i), balances.Order());
        Assert.Equal(60, await merchant.BalanceAsync(regular));
        Assert.All(toOthers, t => Assert.Equal(HttpStatusCode.OK, t.Result.StatusCode));
        foreach (var id in others)
        {
            Assert.Equal(3, await merchant.BalanceAsync(id));
        }
    }

    [Fact]
    public async Task One_key_sent_at_once_for_two_members_credits_only_one_of_them()
    {
        var merchant = fixture.NewMerchant();
        using var client = merchant.Client();
        for (var round = 0; round < 10; round++)
        {
            var (ada, bob) = (await merchant.EnrolAsync(), await merchant.EnrolAsync());
            var key = $"shared-{round}";

            var responses = await Task.WhenAll(
                merchant.ScanAsync($$"""{"barcode":"{{ada}}","points":2}""", key, client),
                merchant.ScanAsync($$"""{"barcode":"{{bob}}","points":2}""", key, client));

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.UnprocessableEntity], responses.Select(r => r.StatusCode).Order());
            var refused = responses.Single(r => r.StatusCode == HttpStatusCode.UnprocessableEntity);
            Assert.Equal("IDEMPOTENCY_KEY_REUSED", (await refused.BodyAsync()).GetProperty("code").GetString());
            Assert.Equal(2, await merchant.BalanceAsync(ada) + await merchant.BalanceAsync(bob));
        }
    }

    [Fact]
    public async Task An_erased_member_among_scans_arriving_together_is_refused_alone()
    {
        var merchant = fixture.NewMerchant();
        var members = new List<Guid>();
        for (var i = 0; i < 30; i++)
        {
            members.Add(await merchant.EnrolAsync());
        }

        var erased = members[15];
        using var client = merchant.Client();
        (await client.DeleteAsync($"/api/v1/merchants/{merchant.Slug}/members/{erased}", Ct)).EnsureSuccessStatusCode();

        var responses = await Task.WhenAll(members.Select((id, i) => merchant.ScanAsync($$"""{"barcode":"{{id}}","points":5}""", $"erased-{i}", client)));

        for (var i = 0; i < members.Count; i++)
        {
            Assert.Equal(members[i] == erased ? HttpStatusCode.NotFound : HttpStatusCode.OK, responses[i].StatusCode);
        }

        foreach (var id in members.Where(id => id != erased))
        {
            Assert.Equal(5, await merchant.BalanceAsync(id));
        }
    }

    [Fact]
    public async Task A_credit_the_database_refuses_fails_alone_and_the_others_written_with_it_succeed()
    {
        // A credit that cannot be written (here a listener refuses any transaction touching one member)
        // takes its whole batch's transaction down: the others must be written again without it.
        var refuse = new RefuseMember();
        await using var host = SlowCommitsHost(refuse, new SlowCommits());
        var merchant = fixture.NewMerchant() with { Host = host };
        var members = new List<Guid>();
        for (var i = 0; i < 40; i++)
        {
            members.Add(await merchant.EnrolAsync());
        }

        var poisoned = members[20];
        refuse.Target = poisoned;
        using var client = merchant.Client();
        var batcher = host.Services.GetRequiredService<CreditBatcher>();

        for (var wave = 0; wave < 3; wave++)
        {
            var responses = await Task.WhenAll(members.Select(async (id, i) =>
            {
                try
                {
                    return (await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":1}""", $"wave-{wave}-{i}", client)).StatusCode;
                }
                catch (Exception) when (id == poisoned)
                {
                    return HttpStatusCode.InternalServerError;
                }
            }));

            for (var i = 0; i < members.Count; i++)
            {
                Assert.Equal(members[i] == poisoned ? HttpStatusCode.InternalServerError : HttpStatusCode.OK, responses[i]);
            }
        }

        Assert.True(batcher.WrittenTogether > 0, "no two credits were written in one transaction");
        foreach (var id in members)
        {
            Assert.Equal(id == poisoned ? 0 : 3, await merchant.BalanceAsync(id));
        }
    }

    private ServiceHost<LoyaltyApi> SlowCommitsHost(params IDocumentSessionListener[] listeners) =>
        new ServiceHost<LoyaltyApi>().WithInfrastructure(fixture.Postgres, fixture.RabbitMq).With("Marten:Daemon", "Disabled")
            .WithServices(services => services.ConfigureMarten(options =>
            {
                foreach (var listener in listeners)
                {
                    options.Listeners.Add(listener);
                }
            }));

    /// <summary>Makes every transaction 40 ms slower before it is sent, so that credits arriving meanwhile queue up.</summary>
    private sealed class SlowCommits : DocumentSessionListenerBase
    {
        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token) => Task.Delay(40, token);
    }

    /// <summary>Refuses, before anything is sent, any transaction that appends to <see cref="Target"/>'s stream.</summary>
    private sealed class RefuseMember : DocumentSessionListenerBase
    {
        public Guid Target { get; set; }

        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
        {
            if (session.PendingChanges.Streams().Any(s => s.Id == Target))
            {
                throw new InvalidOperationException("refused for the test");
            }

            return Task.CompletedTask;
        }
    }
}
