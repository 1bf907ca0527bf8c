using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Payments;
using MassTransit;

// Usage (with the system up):
//   dotnet run -c Release --project bench/Fidpass.PaymentBench -- --admin-key <FIDPASS_ADMIN_KEY> \
//     [--gateway http://127.0.0.1:5080] [--rabbitmq amqp://fidpass:fidpass@127.0.0.1:26720/] \
//     [--rate 200] [--payments 6000] [--members 200]
// Creates a merchant and --members members through the gateway, then publishes PaymentCollected
// (card, 7.90 €, a member attached) to the system's RabbitMQ at a fixed open-loop rate, as
// stripe-terminal would, and consumes PointsCredited on its own temporary queue. Each latency runs
// from when the payment was due to be published to when its credit arrived (publish, loyalty's
// consumer and commit, the event relay, the bus), so a backlog cannot hide (no coordinated omission).
var options = Options.Parse(args);
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Gateway, "/api/v1/admin/merchants"))
{
    Content = JsonContent.Create(new { name = "Bench paiements " + Guid.NewGuid().ToString("N")[..8], email = "bench@example.fr" }),
};
create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.AdminKey);
using var created = await http.SendAsync(create);
created.EnsureSuccessStatusCode();
var merchant = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
var merchantId = Guid.Parse(merchant.GetProperty("id").GetString()!);
using var import = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Gateway, $"/api/v1/merchants/{merchant.GetProperty("slug").GetString()}/members/import"))
{
    Content = JsonContent.Create(Enumerable.Range(0, options.Members).Select(m => new { name = "Client Bench", email = $"client{m}@example.fr" })),
};
import.Headers.Add("X-Dashboard-Token", merchant.GetProperty("dashboardToken").GetString());
using var imported = await http.SendAsync(import);
imported.EnsureSuccessStatusCode();
var members = JsonDocument.Parse(await imported.Content.ReadAsStringAsync()).RootElement.EnumerateArray()
    .Select(row => Guid.Parse(row.GetProperty("memberId").GetString()!)).ToArray();

var run = Guid.NewGuid().ToString("N")[..8];
var due = new ConcurrentDictionary<string, long>();
var latencies = new ConcurrentBag<double>();
var credited = 0;
var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
{
    rabbit.Host(options.RabbitMq);
    rabbit.ReceiveEndpoint($"payment-bench-{run}", endpoint =>
    {
        endpoint.AutoDelete = true;
        endpoint.Durable = false;
        endpoint.PrefetchCount = 256;
        endpoint.Handler<PointsCredited>(context =>
        {
            if (context.Message.MerchantId == merchantId && context.Message.PaymentId is { } paymentId && due.TryRemove(paymentId, out var start))
            {
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Interlocked.Increment(ref credited);
            }

            return Task.CompletedTask;
        });
    });
});
await bus.StartAsync();
try
{
    Console.WriteLine($"{Environment.ProcessorCount} CPU, {options.Payments} payments at {options.Rate}/s (open loop) for {members.Length} members");

    // Warm-up (JIT, connections, the relay's first pages), not counted.
    await Drive("warm-up", Math.Max(1, options.Payments / 10));
    latencies.Clear();
    credited = 0;

    var watch = Stopwatch.StartNew();
    await Drive("run", options.Payments);
    var elapsed = watch.Elapsed.TotalSeconds;
    var sorted = latencies.ToArray();
    Array.Sort(sorted);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"PaymentCollected → PointsCredited: {credited / elapsed,6:F0} credits/s   p50 {P(0.50),6:F2} ms   p95 {P(0.95),6:F2} ms   p99 {P(0.99),6:F2} ms   p99.9 {P(0.999),7:F2} ms   max {P(1),7:F2} ms"));
    if (credited < options.Payments)
    {
        Console.WriteLine($"{options.Payments - credited} payments not credited within {options.Timeout.TotalSeconds:F0} s of the last publish");
    }

    double P(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
finally
{
    await bus.StopAsync();
}

async Task Drive(string label, int count)
{
    var origin = Stopwatch.GetTimestamp();
    var sent = new List<Task>(count);
    for (var i = 0; i < count; i++)
    {
        var start = origin + (long)((double)i * Stopwatch.Frequency / options.Rate);
        while (Stopwatch.GetTimestamp() < start)
        {
            await Task.Delay(1);
        }

        var paymentId = $"pi_bench_{run}_{label}_{i}";
        due[paymentId] = start;
        sent.Add(bus.Publish(new PaymentCollected(paymentId, merchantId, 790, "eur", PaymentMethod.Card, "tmr_bench",
            members[i % members.Length], null, DateTimeOffset.UtcNow)));
    }

    await Task.WhenAll(sent);
    var deadline = Stopwatch.GetTimestamp() + (long)(options.Timeout.TotalSeconds * Stopwatch.Frequency);
    while (!due.IsEmpty && Stopwatch.GetTimestamp() < deadline)
    {
        await Task.Delay(20);
    }

    due.Clear();
}

internal sealed record Options(Uri Gateway, Uri RabbitMq, string AdminKey, int Rate, int Payments, int Members, TimeSpan Timeout)
{
    public static Options Parse(string[] args)
    {
        string Arg(string name, string? fallback) =>
            args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback ?? throw new ArgumentException($"{name} is required");

        return new Options(
            new Uri(Arg("--gateway", "http://127.0.0.1:5080")),
            new Uri(Arg("--rabbitmq", "amqp://fidpass:fidpass@127.0.0.1:26720/")),
            Arg("--admin-key", Environment.GetEnvironmentVariable("FIDPASS_ADMIN_KEY")),
            int.Parse(Arg("--rate", "200"), CultureInfo.InvariantCulture),
            int.Parse(Arg("--payments", "6000"), CultureInfo.InvariantCulture),
            int.Parse(Arg("--members", "200"), CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(int.Parse(Arg("--timeout", "30"), CultureInfo.InvariantCulture)));
    }
}
