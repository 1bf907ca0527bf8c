using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Npgsql;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Fidpass.Testing;

/// <summary>
/// The real PostgreSQL and RabbitMQ the integration tests run against. <c>./fidpass test</c> starts
/// local servers and names them in <c>FIDPASS_TEST_POSTGRES</c>, <c>FIDPASS_TEST_RABBITMQ</c> and
/// <c>FIDPASS_TEST_RABBITMQ_MANAGEMENT</c> (and <c>FIDPASS_TEST_RABBITMQ_PROMETHEUS</c>, RabbitMQ's own
/// metrics endpoint); without those variables (a machine with Docker),
/// Testcontainers starts both once per test process. Each fixture then gets its own database and
/// its own RabbitMQ virtual host, so fixtures running in parallel never see each other's data or
/// messages.
/// </summary>
public static class TestServers
{
    private static readonly Lazy<Task<Endpoints>> Started = new(StartAsync);

    /// <summary>The plugins ./fidpass, docker-compose and the local Kubernetes overlay enable: shovel is the error-queue replay.</summary>
    private const string EnabledPlugins = "[rabbitmq_management,rabbitmq_prometheus,rabbitmq_shovel,rabbitmq_shovel_management].";

    private sealed record Endpoints(string Postgres, Uri RabbitMq, Uri Management, Uri? Prometheus);

    /// <summary>A fresh, empty database; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var servers = await Started.Value;
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(servers.Postgres))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(servers.Postgres) { Database = name, MaxPoolSize = 40 }.ConnectionString;
    }

    /// <summary>A fresh RabbitMQ virtual host; returns the <c>amqp://</c> URI that reaches it.</summary>
    public static async Task<string> CreateVirtualHostAsync(string prefix)
    {
        var servers = await Started.Value;
        var vhost = $"{prefix}-{Guid.NewGuid():N}";
        using var http = ManagementClient(servers.Management);
        (await http.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        var user = Uri.UnescapeDataString(servers.RabbitMq.UserInfo.Split(':')[0]);
        (await http.PutAsJsonAsync($"api/permissions/{vhost}/{user}", new { configure = ".*", write = ".*", read = ".*" }))
            .EnsureSuccessStatusCode();
        return new UriBuilder(servers.RabbitMq) { Path = "/" + vhost }.Uri.ToString();
    }

    /// <summary>RabbitMQ's Prometheus endpoint (plugin <c>rabbitmq_prometheus</c>): what operators scrape for queue depths.</summary>
    public static async Task<Uri> RabbitMqPrometheusAsync() =>
        (await Started.Value).Prometheus
        ?? throw new InvalidOperationException("FIDPASS_TEST_RABBITMQ_PROMETHEUS is not set: run the tests with ./fidpass test, which enables RabbitMQ's Prometheus plugin and names it.");

    /// <summary>RabbitMQ's management HTTP API (what operators use to inspect and replay error queues), authenticated.</summary>
    public static async Task<HttpClient> ManagementAsync() => ManagementClient((await Started.Value).Management);

    private static HttpClient ManagementClient(Uri management)
    {
        var credentials = Uri.UnescapeDataString(management.UserInfo);
        var http = new HttpClient { BaseAddress = new UriBuilder(management) { UserName = "", Password = "" }.Uri };
        http.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return http;
    }

    private static async Task<Endpoints> StartAsync()
    {
        var postgres = Environment.GetEnvironmentVariable("FIDPASS_TEST_POSTGRES");
        var rabbit = Environment.GetEnvironmentVariable("FIDPASS_TEST_RABBITMQ");
        var management = Environment.GetEnvironmentVariable("FIDPASS_TEST_RABBITMQ_MANAGEMENT");
        if (!string.IsNullOrEmpty(postgres) && !string.IsNullOrEmpty(rabbit) && !string.IsNullOrEmpty(management))
        {
            var prometheus = Environment.GetEnvironmentVariable("FIDPASS_TEST_RABBITMQ_PROMETHEUS");
            return new Endpoints(postgres, new Uri(rabbit), new Uri(management), string.IsNullOrEmpty(prometheus) ? null : new Uri(prometheus));
        }

        // Image tags match docker-compose.yml.
        var pg = new PostgreSqlBuilder("postgres:15.8-alpine").Build();
        var mq = new RabbitMqBuilder("rabbitmq:3.13.7-management-alpine").WithPortBinding(15672, true).WithPortBinding(15692, true)
            .WithResourceMapping(Encoding.UTF8.GetBytes(EnabledPlugins), "/etc/rabbitmq/enabled_plugins").Build();
        await Task.WhenAll(pg.StartAsync(), mq.StartAsync());
        var mqUri = new Uri(mq.GetConnectionString());
        var mgmt = new UriBuilder("http", mq.Hostname, mq.GetMappedPublicPort(15672)) { UserName = "rabbitmq", Password = "rabbitmq" }.Uri;
        var prometheusUri = new UriBuilder("http", mq.Hostname, mq.GetMappedPublicPort(15692)).Uri;
        return new Endpoints(pg.GetConnectionString(), mqUri, mgmt, prometheusUri);
    }
}
