using System.Collections.Concurrent;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using LoyaltyContracts = Fidpass.Contracts.Loyalty;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>
/// Two replicas of loyalty on one database and one virtual host, both eligible to run the event
/// relay: exactly one does, and when it stops (or its database session dies, as with
/// <c>kill -9</c>) the other relays the next credits by itself.
/// </summary>
public sealed class DaemonLeaderTests : IAsyncLifetime
{
    private string _postgres = "";
    private string _rabbitMq = "";
    private ServiceHost<LoyaltyApi> _first = null!;
    private ServiceHost<LoyaltyApi> _second = null!;
    private IBusControl _listener = null!;
    private readonly ConcurrentDictionary<Guid, LoyaltyContracts.PointsCredited> _credited = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _postgres = await TestServers.CreateDatabaseAsync("loyalty_leader");
        _rabbitMq = await TestServers.CreateVirtualHostAsync("loyalty-leader");
        _first = await new ServiceHost<LoyaltyApi>().WithInfrastructure(_postgres, _rabbitMq).StartedAsync();
        await Eventually.True(() => Task.FromResult(Leader(_first).IsLeader), what: "the first replica leads");
        _second = await new ServiceHost<LoyaltyApi>().WithInfrastructure(_postgres, _rabbitMq).StartedAsync();
        _listener = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(_rabbitMq));
            bus.ReceiveEndpoint("test-leader-credits-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<LoyaltyContracts.PointsCredited>(context =>
                {
                    _credited.TryAdd(context.Message.OperationId, context.Message);
                    return Task.CompletedTask;
                });
            });
        });
        await _listener.StartAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.StopAsync(CancellationToken.None);
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    private static DaemonLeader Leader(ServiceHost<LoyaltyApi> host) => host.Services.GetRequiredService<DaemonLeader>();

    [Fact]
    public async Task Only_one_replica_relays_and_the_other_takes_over_when_it_stops()
    {
        var merchant = new TestMerchant(_second, Guid.NewGuid(), "leader-shop");
        var member = await merchant.EnrolAsync();

        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        Assert.False(Leader(_second).IsLeader);
        (await merchant.ScanAsync($$"""{"barcode":"{{member}}","points":3}""")).EnsureSuccessStatusCode();
        await Eventually.True(() => Task.FromResult(_credited.Values.Any(c => c.MemberId == member && c.Points == 3)), what: "relayed by the first replica");

        await _first.DisposeAsync();
        await Eventually.True(() => Task.FromResult(Leader(_second).IsLeader), what: "the second replica takes over");
        (await merchant.ScanAsync($$"""{"barcode":"{{member}}","points":4}""")).EnsureSuccessStatusCode();

        await Eventually.True(() => Task.FromResult(_credited.Values.Any(c => c.MemberId == member && c.Points == 4)), what: "relayed by the second replica");
        Assert.Equal(7, await merchant.BalanceAsync(member));
    }

    [Fact]
    public async Task When_the_leaders_database_session_dies_the_other_replica_relays_and_the_old_leader_stops_its_daemon()
    {
        var merchant = new TestMerchant(_second, Guid.NewGuid(), "killed-leader-shop");
        var member = await merchant.EnrolAsync();

        // What PostgreSQL sees when the leader's process is killed: its session ends, the lock goes.
        var killed = Leader(_first);
        await using (var connection = new NpgsqlConnection(_postgres))
        {
            await connection.OpenAsync(Ct);
            await using var terminate = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @name AND datname = current_database()", connection);
            terminate.Parameters.AddWithValue("name", killed.ApplicationName);
            Assert.Equal(1L, await terminate.ExecuteScalarAsync(Ct));
        }

        await Eventually.True(() => Task.FromResult(Leader(_second).IsLeader), what: "the second replica takes over");
        await Eventually.True(() => Task.FromResult(!killed.IsLeader), what: "the old leader stops its daemon");
        (await merchant.ScanAsync($$"""{"barcode":"{{member}}","points":5}""")).EnsureSuccessStatusCode();

        await Eventually.True(() => Task.FromResult(_credited.Values.Any(c => c.MemberId == member && c.Points == 5)), what: "relayed after the takeover");
        await Task.Delay(AdvisoryLockSession.CheckInterval * 2, Ct);
        Assert.True(Leader(_second).IsLeader);
        Assert.False(killed.IsLeader);
    }
}
