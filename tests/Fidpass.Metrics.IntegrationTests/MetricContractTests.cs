using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fidpass.Contracts.Payments;
using Fidpass.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

using Fidpass.Gateway.IntegrationTests;

namespace Fidpass.Metrics.IntegrationTests;

/// <summary>
/// docs/operations.md's metric table is what the dashboards and alerts query (a deployment test
/// checks that). This checks the other half against the running system: after a card sale with a
/// refund, a cash sale and a message that fails in its consumer, every metric the table says a
/// service exports is in a Prometheus scrape of the services, and the RabbitMQ ones are in RabbitMQ's.
/// </summary>
public sealed partial class MetricContractTests(PaymentsFixture fixture) : IClassFixture<PaymentsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_metric_the_dashboards_read_is_exported_by_the_running_system()
    {
        await DriveEveryFlowAsync();

        var contract = MetricTable();
        Assert.True(contract.Count >= 15, $"docs/operations.md lists only {contract.Count} metrics");
        // The wallet's metrics are checked by its own integration tests (AppleWebServiceTests), which host it with a fake APNs.
        var services = contract.Where(m => !m.Source.Contains("RabbitMQ", StringComparison.Ordinal) && m.Source != "Prometheus"
            && !m.Source.StartsWith("wallet", StringComparison.Ordinal)).Select(m => m.Name).ToList();
        var rabbit = contract.Where(m => m.Source.StartsWith("RabbitMQ", StringComparison.Ordinal)).Select(m => m.Name).ToList();
        Assert.Contains("fidpass_points_credited_total", services);
        Assert.Contains("rabbitmq_detailed_queue_messages", rabbit);

        List<string> Missing(HashSet<string> names) => services.Where(n => !names.Contains(n)).ToList();
        var scraped = await ScrapeServicesAsync();
        for (var deadline = DateTime.UtcNow.AddSeconds(60); Missing(scraped).Count > 0 && DateTime.UtcNow < deadline; scraped = await ScrapeServicesAsync())
        {
            await Task.Delay(250, Ct);
        }

        Assert.True(Missing(scraped).Count == 0, "exported by no service: " + string.Join(", ", Missing(scraped)));

        using var http = new HttpClient { BaseAddress = await TestServers.RabbitMqPrometheusAsync() };
        var queues = MetricNames(await http.GetStringAsync(new Uri("metrics/detailed?family=queue_coarse_metrics", UriKind.Relative), Ct));
        var missing = rabbit.Where(n => !queues.Contains(n)).ToList();
        Assert.True(missing.Count == 0, "not in RabbitMQ's scrape: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task The_MassTransit_fault_counters_are_exported_at_zero_before_any_fault()
    {
        // FaultCounterSeries adds 0 to each once the host has started: a series without consumer or
        // exception labels, which no fault ever raises, so it reads 0 whatever else ran in this process.
        string[] counters = ["messaging_masstransit_consume_errors_ea_total", "messaging_masstransit_consume_retries_ea_total", "messaging_masstransit_send_errors_ea_total"];
        List<string> MissingAtZero(string exposition) => counters.Where(name => !exposition.Split('\n').Any(line =>
            ZeroSample().Match(line) is { Success: true } zero && zero.Groups[1].Value == name
            && !line.Contains("messaging_masstransit_consumer_type", StringComparison.Ordinal))).ToList();

        foreach (var host in new[] { fixture.MerchantToken.CreateClient(), fixture.Gateway.CreateClient() })
        {
            var missing = counters.ToList();
            await Eventually.True(async () => (missing = MissingAtZero(await host.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct))).Count == 0,
                what: "the MassTransit fault counters at 0 in " + host.BaseAddress);
            Assert.Empty(missing);
        }
    }

    /// <summary>A card sale with a member and its refund, a cash sale with a member, and a refund of a payment nobody collected (retried, then faulted).</summary>
    private async Task DriveEveryFlowAsync()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, "terminal", "cash", "lookup");
        using var till = new HttpClient { BaseAddress = fixture.Gateway.Address };
        till.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Key);
        var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members", new { name = "Louis Pasteur", email = $"louis.{Guid.NewGuid():N}@example.fr" }, Ct);
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        var member = (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();

        fixture.DeliverWebhooksThroughGateway();
        var readers = await Eventually.Get(
            () => till.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/terminal/readers", Ct),
            r => r.GetArrayLength() > 0, what: "the merchant's simulated reader");
        var readerId = readers[0].GetProperty("id").GetString();
        var sale = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/terminal/payments",
            new { saleId = "M-1", amount = 1500, currency = "eur", readerId, memberBarcode = member.ToString() }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, sale.StatusCode);
        (await fixture.FakeStripe.PostAsync(new Uri($"/__fake/readers/{readerId}/present?number=4242424242424242", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
        await Balances.BecomeAsync(till, merchant.Slug, member, 15);
        var refund = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/terminal/payments/M-1/refunds", new { refundId = "M-R1", amount = 500 }, Ct);
        Assert.True(refund.IsSuccessStatusCode, await refund.Content.ReadAsStringAsync(Ct));
        await Balances.BecomeAsync(till, merchant.Slug, member, 10);

        var created = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/cash/machines",
            new { name = "Caisse métriques", host = "127.0.0.1", port = fixture.Cash.Port, tillCode = "1", mode = "express" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var machine = $"/api/v1/merchants/{merchant.Slug}/cash/machines/{(await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid()}";
        await Eventually.True(async () => (await till.GetFromJsonAsync<JsonElement>(machine, Ct)).GetProperty("status").GetString() == "ready", what: "machine ready");
        var charge = await till.PostAsJsonAsync($"{machine}/charges", new { requestId = "M-2", amount = 700, memberBarcode = member.ToString() }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, charge.StatusCode);
        await Eventually.True(() => Task.FromResult(fixture.Cash.InsertAmount(700)), what: "the customer inserts 7 €");
        await Balances.BecomeAsync(till, merchant.Slug, member, 17);

        var bus = fixture.MerchantToken.Services.GetRequiredService<IBus>();
        await bus.Publish(new PaymentRefunded("re_" + Guid.NewGuid().ToString("N"), "pi_never_collected", merchant.Id, 100, "eur", DateTimeOffset.UtcNow), Ct);
    }

    private async Task<HashSet<string>> ScrapeServicesAsync()
    {
        // The hosts share this process, hence the meters; each host still serves its own /metrics.
        var names = MetricNames(await fixture.Gateway.CreateClient().GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct));
        names.UnionWith(MetricNames(await fixture.MerchantToken.CreateClient().GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct)));
        return names;
    }

    /// <summary>The sample names of a Prometheus text exposition (comments and labels left out).</summary>
    private static HashSet<string> MetricNames(string exposition) =>
        exposition.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => SampleName().Match(line).Value)
            .ToHashSet(StringComparer.Ordinal);

    private sealed record ContractMetric(string Name, string Source);

    /// <summary>The rows of the table under "## Metrics" in docs/operations.md: name and source columns.</summary>
    private static List<ContractMetric> MetricTable()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), "docs", "operations.md"));
        var start = Array.IndexOf(lines, "## Metrics");
        Assert.True(start >= 0, "docs/operations.md has no '## Metrics' section");
        return lines.Skip(start + 1)
            .TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .Select(l => MetricRow().Match(l))
            .Where(m => m.Success)
            .Select(m => new ContractMetric(m.Groups[1].Value, m.Groups[2].Value.Trim()))
            .ToList();
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Fidpass.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Fidpass.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^[a-zA-Z_:][\w:]*")]
    private static partial Regex SampleName();

    [GeneratedRegex(@"^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})? 0(?: \d+)?$")]
    private static partial Regex ZeroSample();

    // | `name` | type | labels | source | meaning |
    [GeneratedRegex(@"^\|\s*`([a-zA-Z_:][\w:]*)`\s*\|[^|]*\|(?:[^|\\]|\\\|)*\|((?:[^|\\]|\\\|)*)\|")]
    private static partial Regex MetricRow();
}
