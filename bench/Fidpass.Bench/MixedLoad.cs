using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Fidpass.Chaos;

namespace Fidpass.Bench;

/// <summary>One operation of the mixed load: when it was due, how long until the till had its answer.</summary>
internal sealed record Sample(string Flow, double DueAt, double LatencyMs, bool Ok, string? Error);

/// <summary>
/// The three flows of a shop, each at its own fixed arrival rate (open loop: an operation is due at
/// its time whatever happened before, and its latency runs from then, so a backlog cannot hide):
/// integrator scans; card sales on a pool of simulated Stripe readers; cash sales on a pool of
/// Cashlogy machines. A reader or a machine serves one sale at a time, so a sale may wait for a free
/// device, and that wait is in its latency, as it is for the customer at the till.
/// </summary>
internal sealed class MixedLoad(HttpClient till, HttpClient fake, Merchant merchant, Stopwatch clock)
{
    private readonly ConcurrentQueue<Sample> _samples = new();
    private long _sequence;

    public IReadOnlyList<Sample> Samples => [.. _samples];

    private double Now => clock.Elapsed.TotalSeconds;

    /// <summary>Integrator scans: <c>POST …/integration/scan</c>, a durable credit each, one attempt.</summary>
    public Task ScansAsync(Guid[] members, int rate, CancellationToken stop) =>
        OpenLoop.RunAsync(rate, n => ScanAsync(members[n % members.Length], Now), stop);

    /// <summary>Card sales, each served by the first free reader of <paramref name="readers"/>.</summary>
    public Task CardSalesAsync(Guid[] members, string[] readers, int rate, CancellationToken stop) =>
        PooledAsync(readers, rate, (reader, n, due) => CardAsync(reader, members[n % members.Length], due), stop);

    /// <summary>Cash sales, each served by the first free machine of <paramref name="machines"/>.</summary>
    public Task CashSalesAsync(Guid[] members, (string Path, CashSimulator Simulator)[] machines, int rate, CancellationToken stop) =>
        PooledAsync(machines, rate, (machine, n, due) => CashAsync(machine.Path, machine.Simulator, members[n % members.Length], due), stop);

    private async Task PooledAsync<TDevice>(TDevice[] devices, int rate, Func<TDevice, int, double, Task> serve, CancellationToken stop)
    {
        if (rate <= 0 || devices.Length == 0)
        {
            return;
        }

        var queue = Channel.CreateUnbounded<(int N, double Due)>();
        var workers = devices.Select(async device =>
        {
            await foreach (var (n, due) in queue.Reader.ReadAllAsync(CancellationToken.None))
            {
                await serve(device, n, due);
            }
        }).ToList();
        await OpenLoop.RunAsync(rate, n => queue.Writer.WriteAsync((n, Now)).AsTask(), stop);
        // Sales already waiting for a device are served: they were due, leaving them out would hide the backlog.
        queue.Writer.Complete();
        await Task.WhenAll(workers);
    }

    private async Task ScanAsync(Guid member, double due)
    {
        var amount = (5 + (Interlocked.Increment(ref _sequence) % 40)).ToString("0.00", CultureInfo.InvariantCulture);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/businesses/{merchant.Slug}/integration/scan")
            {
                Content = new StringContent(JsonSerializer.Serialize(new { barcode = member.ToString(), amount_eur = amount }), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", "bench-scan-" + Guid.NewGuid().ToString("N"));
            using var response = await till.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            Record("scan", due, response.IsSuccessStatusCode ? null : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Record("scan", due, ex.GetType().Name);
        }
    }

    private async Task CardAsync(string reader, Guid member, double due)
    {
        var n = Interlocked.Increment(ref _sequence);
        var saleId = $"bench-card-{merchant.Id.ToString("N")[..6]}-{n}";
        // Cents ending in 2: the fake Stripe, like Stripe's test mode, declines some other endings.
        var amount = 502 + (10 * (n % 50));
        var path = $"/api/v1/merchants/{merchant.Slug}/terminal/payments";
        try
        {
            using var started = await till.PostAsJsonAsync(path, new { saleId, amount, currency = "eur", readerId = reader, memberBarcode = member.ToString() });
            if (!started.IsSuccessStatusCode)
            {
                Record("card", due, $"start {(int)started.StatusCode}");
                return;
            }

            var presented = false;
            var giveUp = Now + 30;
            while (Now < giveUp)
            {
                var view = await till.GetFromJsonAsync<JsonElement>($"{path}/{saleId}");
                switch (view.GetProperty("status").GetString())
                {
                    case "succeeded":
                        Record("card", due, null);
                        return;
                    case var status when status is "declined" or "canceled" or "reader_failed":
                        Record("card", due, status);
                        return;
                    case "processing" when !presented:
                        // The customer taps the card.
                        using (var present = await fake.PostAsync(new Uri($"/__fake/readers/{reader}/present?number=4242424242424242", UriKind.Relative), null))
                        {
                            presented = present.IsSuccessStatusCode;
                        }

                        break;
                }

                await Task.Delay(100);
            }

            using var cancel = await till.PostAsync(new Uri($"{path}/{saleId}/cancel", UriKind.Relative), null);
            Record("card", due, "not done in 30 s");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            Record("card", due, ex.GetType().Name);
        }
    }

    private async Task CashAsync(string machinePath, CashSimulator simulator, Guid member, double due)
    {
        var n = Interlocked.Increment(ref _sequence);
        var amount = 300 + (n % 700);
        try
        {
            using var charge = await till.PostAsJsonAsync($"{machinePath}/charges", new { requestId = $"bench-cash-{n}", amount, memberBarcode = member.ToString() });
            if (!charge.IsSuccessStatusCode)
            {
                Record("cash", due, $"charge {(int)charge.StatusCode}");
                return;
            }

            var operation = $"/api/v1/merchants/{merchant.Slug}/cash/operations/{(await charge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("operationId").GetGuid()}";
            var paid = false;
            var giveUp = Now + 30;
            while (Now < giveUp)
            {
                var view = await till.GetFromJsonAsync<JsonElement>(operation);
                if (view.GetProperty("status").GetString() == "settled")
                {
                    var collected = view.TryGetProperty("collected", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt64() : 0;
                    Record("cash", due, collected == amount ? null : $"collected {collected} of {amount}");
                    return;
                }

                if (!paid)
                {
                    // The customer pays the exact amount (refused until the machine's inlet is open).
                    using var insert = await simulator.Control.PostAsJsonAsync("/control/insert", new { amount });
                    paid = insert.IsSuccessStatusCode;
                }

                await Task.Delay(100);
            }

            Record("cash", due, "not settled in 30 s");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            Record("cash", due, ex.GetType().Name);
        }
    }

    private void Record(string flow, double due, string? error) =>
        _samples.Enqueue(new Sample(flow, due, (Now - due) * 1000, error is null, error));
}
