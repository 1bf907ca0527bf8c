using System.Net;
using System.Text.Json;
using Fidpass.Testing;

namespace Fidpass.Loyalty.IntegrationTests;

public sealed class HealthTests
{
    [Fact]
    public async Task Health_is_green_when_PostgreSQL_and_RabbitMQ_answer()
    {
        await using var host = new ServiceHost<LoyaltyApi>().WithInfrastructure(
            await TestServers.CreateDatabaseAsync("loyalty_health"), await TestServers.CreateVirtualHostAsync("loyalty-health"));
        using var client = host.CreateClient();

        var body = await Eventually.Get(
            async () => (await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)),
            r => r.StatusCode == HttpStatusCode.OK, what: "/health 200");

        var checks = JsonDocument.Parse(await body.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("postgres").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("masstransit-bus").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_is_red_and_alive_stays_green_when_PostgreSQL_is_unreachable()
    {
        var unreachable = "Host=127.0.0.1;Port=1;Username=nobody;Password=x;Database=none;Timeout=2";
        await using var host = new ServiceHost<LoyaltyApi>()
            .WithInfrastructure(unreachable, await TestServers.CreateVirtualHostAsync("loyalty-health"))
            .With("Marten:Daemon", "Disabled")
            .With("Marten:ApplyChangesOnStartup", "false");
        using var client = host.CreateClient();

        var health = await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);
        var alive = await client.GetAsync(new Uri("/alive", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("PostgreSQL does not answer", await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task Ready_stays_green_while_RabbitMQ_is_unreachable_and_health_says_so()
    {
        // Kubernetes' readiness probe is /ready: a broker outage must not take every pod out of
        // service, since requests commit to the event store and the relay publishes later.
        await using var host = new ServiceHost<LoyaltyApi>().WithInfrastructure(
            await TestServers.CreateDatabaseAsync("loyalty_ready"), "amqp://guest:guest@127.0.0.1:1/");
        using var client = host.CreateClient();

        await Eventually.True(async () => (await client.GetAsync(new Uri("/ready", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode == HttpStatusCode.OK,
            what: "/ready 200");
        var health = await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("masstransit-bus", await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_quorum_queues_asked_for_the_receive_queues_are_declared_as_quorum_queues()
    {
        var vhostUri = await TestServers.CreateVirtualHostAsync("loyalty-quorum");
        await using var host = await new ServiceHost<LoyaltyApi>()
            .WithInfrastructure(await TestServers.CreateDatabaseAsync("loyalty_quorum"), vhostUri)
            .With("RabbitMq:QuorumQueues", "true")
            .StartedAsync();
        using var management = await TestServers.ManagementAsync();
        var vhost = Uri.EscapeDataString(new Uri(vhostUri).AbsolutePath.TrimStart('/'));

        var queue = JsonDocument.Parse(await management.GetStringAsync(new Uri($"api/queues/{vhost}/loyalty-payment-collected", UriKind.Relative), TestContext.Current.CancellationToken)).RootElement;

        Assert.Equal("quorum", queue.GetProperty("type").GetString());
    }
}
