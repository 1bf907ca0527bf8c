using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.StripeTerminal.Readers;
using Fidpass.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>
/// ReaderStatusChanged on the bus once per real change, and the <c>fidpass_reader_status</c> gauge
/// the business dashboard and the FidpassReaderOffline alert read (docs/operations.md, "Metrics").
/// </summary>
public sealed class ReaderStatusTests(StripeTerminalFixture fixture) : IClassFixture<StripeTerminalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>In the order the changes happened: the relay may publish the messages of one page concurrently.</summary>
    private IReadOnlyList<string> StatusesOf(string readerId) =>
        [.. fixture.ReaderStatuses.Where(s => s.ReaderId == readerId).OrderBy(s => s.OccurredAt).Select(s => s.Status)];

    private Task PublishedAsync(string readerId, params string[] statuses) =>
        Eventually.True(() => Task.FromResult(StatusesOf(readerId).SequenceEqual(statuses)), what: $"{readerId}: {string.Join(", ", statuses)}");

    /// <summary>The gauge's value for one reader in a real scrape of <c>/metrics</c>, or null when it is not exported.</summary>
    private async Task<double?> GaugeAsync(Merchant merchant, string readerId)
    {
        var scrape = await fixture.ServiceClient.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
        var line = scrape.Split('\n').SingleOrDefault(l => l.StartsWith("fidpass_reader_status{", StringComparison.Ordinal)
            && l.Contains($"reader_id=\"{readerId}\"", StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }

        Assert.Contains($"merchant=\"{merchant.Slug}\"", line, StringComparison.Ordinal);
        return double.Parse(line[(line.IndexOf('}', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    private Task GaugeIsAsync(Merchant merchant, string readerId, double? value) =>
        Eventually.True(async () => await GaugeAsync(merchant, readerId) == value, what: $"fidpass_reader_status of {readerId} = {value}");

    private static Task<JsonElement> ListAsync(Merchant merchant) => merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("readers"), Ct);

    private Task MonitorRoundAsync() =>
        fixture.Service.Services.GetServices<IHostedService>().OfType<ReaderStatusMonitor>().Single().PollAsync(Ct);

    [Fact]
    public async Task A_reader_going_offline_and_back_is_published_once_per_change_and_the_gauge_follows()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await PublishedAsync(readerId, "online");
        await GaugeIsAsync(merchant, readerId, 1);

        await fixture.ControlAsync($"/__fake/readers/{readerId}/offline");
        for (var i = 0; i < 3; i++)
        {
            await ListAsync(merchant);
            await MonitorRoundAsync();
        }

        await PublishedAsync(readerId, "online", "offline");
        await GaugeIsAsync(merchant, readerId, 0);

        await fixture.ControlAsync($"/__fake/readers/{readerId}/online");
        await ListAsync(merchant);
        await MonitorRoundAsync();
        await ListAsync(merchant);

        // Exactly these three: a duplicate "offline" (stored before the second "online") would be published with it or before it.
        await PublishedAsync(readerId, "online", "offline", "online");
        await GaugeIsAsync(merchant, readerId, 1);
        var last = fixture.ReaderStatuses.Last(s => s.ReaderId == readerId);
        Assert.Equal(merchant.Id, last.MerchantId);
    }

    [Fact]
    public async Task The_status_round_notices_a_reader_that_went_offline_while_nobody_used_it()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await PublishedAsync(readerId, "online");

        await fixture.ControlAsync($"/__fake/readers/{readerId}/offline");
        await MonitorRoundAsync();

        await PublishedAsync(readerId, "online", "offline");
        await GaugeIsAsync(merchant, readerId, 0);
    }

    [Fact]
    public async Task A_sale_refused_because_the_reader_is_offline_records_it_offline_and_its_next_acknowledgement_online()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await PublishedAsync(readerId, "online");
        await fixture.ControlAsync($"/__fake/readers/{readerId}/offline");

        using var refused = await merchant.PayAsync(new { saleId = "sale-reader-offline", amount = 990, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        await PublishedAsync(readerId, "online", "offline");

        await fixture.ControlAsync($"/__fake/readers/{readerId}/online");
        using var retried = await merchant.PayAsync(new { saleId = "sale-reader-offline", amount = 990, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        await PublishedAsync(readerId, "online", "offline", "online");
    }

    [Fact]
    public async Task A_deleted_reader_leaves_the_gauge()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await GaugeIsAsync(merchant, readerId, 1);

        using var deleted = await merchant.Http.DeleteAsync(merchant.Route($"readers/{readerId}"), Ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        await GaugeIsAsync(merchant, readerId, null);
    }
}
