using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Contracts.Payments;
using Fidpass.Gateway.IntegrationTests;
using Fidpass.Testing;
using MassTransit;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Metrics.IntegrationTests;

/// <summary>
/// A message its consumer cannot apply is never lost (issue #9): after its retries it waits in the
/// consumer's <c>_error</c> queue, operators see it in RabbitMQ's metrics (what the
/// FidpassErrorQueueNotEmpty alert reads), and the replay documented in docs/operations.md
/// ("Replay the error queue", a one-shot shovel through the management API) applies it once its
/// cause is gone.
/// </summary>
public sealed class ErrorQueueReplayTests(PaymentsFixture fixture) : IClassFixture<PaymentsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_refund_the_database_refused_waits_in_the_error_queue_and_the_documented_replay_takes_its_points_back()
    {
        var merchant = await fixture.CreateMerchantAsync();
        using var dashboard = new HttpClient { BaseAddress = fixture.Gateway.Address };
        dashboard.DefaultRequestHeaders.Add("X-Dashboard-Token", merchant.DashboardToken);
        var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members", new { name = "Irène Joliot", email = $"irene.{Guid.NewGuid():N}@example.fr" }, Ct);
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        var member = (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
        var bus = fixture.MerchantToken.Services.GetRequiredService<IBus>();
        var paymentId = "pi_replay_" + Guid.NewGuid().ToString("N");
        await bus.Publish(new PaymentCollected(paymentId, merchant.Id, 2000, "eur", PaymentMethod.Card, "tmr_replay", member, null, DateTimeOffset.UtcNow), Ct);
        await Balances.BecomeAsync(dashboard, merchant.Slug, member, 20);
        await bus.Publish(new PaymentRefunded("re_" + Guid.NewGuid().ToString("N"), paymentId, merchant.Id, 100, "eur", DateTimeOffset.UtcNow), Ct);
        await Balances.BecomeAsync(dashboard, merchant.Slug, member, 19);

        // The cause: the database refuses refunds (a faulty migration, a full disk) for longer than the consumer's retries (about 4 s).
        await using var database = new NpgsqlConnection(fixture.Postgres);
        await database.OpenAsync(Ct);
        await Sql(database, """
            create function loyalty.refuse_refunds() returns trigger language plpgsql as $$ begin raise exception 'refunds refused by the test'; end $$;
            create trigger refuse_refunds before insert or update on loyalty.mt_doc_refundrecord for each row execute function loyalty.refuse_refunds();
            """);
        await bus.Publish(new PaymentRefunded("re_" + Guid.NewGuid().ToString("N"), paymentId, merchant.Id, 400, "eur", DateTimeOffset.UtcNow), Ct);

        using var management = await TestServers.ManagementAsync();
        var vhost = Uri.UnescapeDataString(new Uri(fixture.RabbitMq).AbsolutePath.TrimStart('/'));
        var errorQueue = await Eventually.Get(
            async () => (await management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(vhost)}", Ct)).EnumerateArray()
                .Select(q => q.GetProperty("name").GetString()!)
                .FirstOrDefault(name => name.StartsWith("loyalty", StringComparison.Ordinal) && name.EndsWith("refunded_error", StringComparison.Ordinal)),
            name => name is not null, TimeSpan.FromSeconds(60), "loyalty's refund error queue");
        var queue = errorQueue![..^"_error".Length];

        // Visible to operators: the depth RabbitMQ exports for the alert (its statistics refresh every few seconds).
        using var prometheus = new HttpClient { BaseAddress = await TestServers.RabbitMqPrometheusAsync() };
        await Eventually.True(async () => QueueDepth(await prometheus.GetStringAsync(new Uri("metrics/detailed?family=queue_coarse_metrics", UriKind.Relative), Ct), vhost, errorQueue) >= 1,
            TimeSpan.FromSeconds(60), $"rabbitmq_detailed_queue_messages of {errorQueue}");

        // The cause is fixed; the refund still waits.
        await Sql(database, "drop trigger refuse_refunds on loyalty.mt_doc_refundrecord; drop function loyalty.refuse_refunds();");
        Assert.Equal(19, await Balances.OfAsync(dashboard, merchant.Slug, member));

        // The documented replay: a shovel that moves what the error queue holds now, then deletes itself.
        var shovel = new
        {
            value = new Dictionary<string, object>
            {
                ["src-protocol"] = "amqp091",
                ["src-uri"] = $"amqp:///{Uri.EscapeDataString(vhost)}",
                ["src-queue"] = errorQueue,
                ["src-delete-after"] = "queue-length",
                ["dest-protocol"] = "amqp091",
                ["dest-uri"] = $"amqp:///{Uri.EscapeDataString(vhost)}",
                ["dest-queue"] = queue,
            },
        };
        using var replay = await management.PutAsJsonAsync($"api/parameters/shovel/{Uri.EscapeDataString(vhost)}/replay-{queue}", shovel, Ct);
        Assert.True(replay.IsSuccessStatusCode, $"{(int)replay.StatusCode} {await replay.Content.ReadAsStringAsync(Ct)}");

        await Balances.BecomeAsync(dashboard, merchant.Slug, member, 15);
        // The broker's statistics come a few seconds behind: until they do, "messages" is absent, which is not "empty".
        await Eventually.True(async () => (await management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(errorQueue)}", Ct))
            .TryGetProperty("messages", out var depth) && depth.GetInt64() == 0, TimeSpan.FromSeconds(60), $"{errorQueue} empty");

        // Replaying again (an operator's second click) finds nothing and changes nothing.
        using var again = await management.PutAsJsonAsync($"api/parameters/shovel/{Uri.EscapeDataString(vhost)}/replay-{queue}-again", shovel, Ct);
        Assert.True(again.IsSuccessStatusCode);
        await Eventually.True(async () => (await management.GetFromJsonAsync<JsonElement>($"api/parameters/shovel/{Uri.EscapeDataString(vhost)}", Ct)).GetArrayLength() == 0,
            TimeSpan.FromSeconds(60), "the one-shot shovels deleted themselves");
        Assert.Equal(15, await Balances.OfAsync(dashboard, merchant.Slug, member));
    }

    private static async Task Sql(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>The <c>rabbitmq_detailed_queue_messages</c> sample of one queue of one vhost, or 0.</summary>
    private static double QueueDepth(string exposition, string vhost, string queue) =>
        exposition.Split('\n')
            .Where(l => l.StartsWith("rabbitmq_detailed_queue_messages{", StringComparison.Ordinal)
                && l.Contains($"vhost=\"{vhost}\"", StringComparison.Ordinal) && l.Contains($"queue=\"{queue}\"", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .DefaultIfEmpty(0)
            .Sum();
}
