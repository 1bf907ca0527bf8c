using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

// Usage:
//   dotnet run -c Release --project bench/Fidpass.GatewayBench -- \
//     --gateway http://127.0.0.1:5080 --direct http://127.0.0.1:5101 --admin-key <FIDPASS_ADMIN_KEY> \
//     [--path "/api/v1/merchants/{slug}/integration-keys"] [--requests 20000] [--concurrency 16] [--rate 1000] [--block-ms 100]
// Without --rate, a closed loop of --concurrency callers measures peak throughput, one way after the
// other. With --rate, an open loop sends at that fixed arrival rate and times each request from when
// it was due, so a slow answer cannot hide the requests queued behind it (no coordinated omission);
// the two ways take turns every --block-ms, --requests each.
// The same authenticated GET is sent through the gateway (dashboard token, introspected and cached
// there) and straight to the service (with the X-Fidpass-* headers the gateway would have set).
// For the loyalty lookup: --direct http://127.0.0.1:5102 --path "/api/businesses/{slug}/integration/lookup?barcode={member}"
// ({member} is one of --members members the bench enrols first, 200 by default, used in turn). For the scan: --method POST --path "/api/businesses/{slug}/integration/scan"
// --body '{"barcode":"{member}","amount_eur":"7.90"}' (every scan really credits: these are durable writes).
// --gateway-pid <pid> (Linux, same host) also prints the gateway process's CPU time per request: on
// a busy machine latency is mostly queueing behind other work, CPU per request much less so. This
// bench's own CPU per request is printed too (the load generator shares the machine's cores).
// --idempotency-keys sends a new Idempotency-Key with each request (a till's durable scan).
var options = Options.Parse(args);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Rate > 0 ? 512 : options.Concurrency * 2 }) { Timeout = TimeSpan.FromSeconds(30) };

using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Gateway, "/api/v1/admin/merchants"))
{
    Content = JsonContent.Create(new { name = "Bench " + Guid.NewGuid().ToString("N")[..8], email = "bench@example.fr" }),
};
create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.AdminKey);
using var created = await http.SendAsync(create);
created.EnsureSuccessStatusCode();
var merchant = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
var slug = merchant.GetProperty("slug").GetString()!;
var token = merchant.GetProperty("dashboardToken").GetString()!;
var merchantId = merchant.GetProperty("id").GetString()!;
var path = options.Path.Replace("{slug}", slug, StringComparison.Ordinal);
var body = options.Body ?? "";
var members = new List<string>();
if (path.Contains("{member}", StringComparison.Ordinal) || body.Contains("{member}", StringComparison.Ordinal))
{
    // Many members, as in a shop: credits to one member are serialised by its event stream.
    // The import route (not the public, rate-limited enrolment) creates them in one call.
    using var import = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Gateway, $"/api/v1/merchants/{slug}/members/import"))
    {
        Content = JsonContent.Create(Enumerable.Range(0, options.Members).Select(m => new { name = "Client Bench", email = $"client{m}@example.fr" })),
    };
    import.Headers.Add("X-Dashboard-Token", token);
    using var imported = await http.SendAsync(import);
    imported.EnsureSuccessStatusCode();
    members.AddRange(JsonDocument.Parse(await imported.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(row => row.GetProperty("memberId").GetString()!));
}

var sequence = 0;
string NextMember() => members[(int)((uint)Interlocked.Increment(ref sequence) % (uint)members.Count)];
string PathFor() => members.Count == 0 ? path : path.Replace("{member}", NextMember(), StringComparison.Ordinal);

HttpContent? Body() => options.Body is null ? null
    : new StringContent(members.Count == 0 ? body : body.Replace("{member}", NextMember(), StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json");

HttpRequestMessage Keyed(HttpRequestMessage request)
{
    if (options.IdempotencyKeys)
    {
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
    }

    return request;
}

HttpRequestMessage ThroughGateway()
{
    var request = Keyed(new HttpRequestMessage(new HttpMethod(options.Method), new Uri(options.Gateway, PathFor())) { Content = Body() });
    request.Headers.Add("X-Dashboard-Token", token);
    return request;
}

HttpRequestMessage Direct()
{
    var request = Keyed(new HttpRequestMessage(new HttpMethod(options.Method), new Uri(options.Direct, PathFor())) { Content = Body() });
    request.Headers.Add("X-Fidpass-Merchant-Id", merchantId);
    request.Headers.Add("X-Fidpass-Merchant-Slug", slug);
    request.Headers.Add("X-Fidpass-Credential-Kind", "dashboard_token");
    request.Headers.Add("X-Fidpass-Scopes", "");
    return request;
}

Console.WriteLine(options.Rate > 0
    ? $"{Environment.ProcessorCount} CPU, {options.Requests} requests each way at {options.Rate}/s (open loop, direct and gateway alternating every {options.BlockMs} ms), {options.Method} {options.Path}"
    : $"{Environment.ProcessorCount} CPU, {options.Requests} requests, concurrency {options.Concurrency}, {options.Method} {options.Path}");
Func<HttpRequestMessage>[] ways = [Direct, ThroughGateway];
var warmUp = Math.Min(1000, options.Requests / 10);
foreach (var way in ways)
{
    await Drive(warmUp, way, null); // JIT, connection pools, caches
}

var cpuBefore = ProcessCpu(options.GatewayPid);
var ownBefore = ProcessCpu(Environment.ProcessId);
var (direct, gateway) = options.Rate > 0 ? await Interleaved() : (await Run("direct ", Direct), await Run("gateway", ThroughGateway));
if (ProcessCpu(options.GatewayPid) - cpuBefore is { } cpu)
{
    // In the closed loop the direct run is inside the window too, but the gateway served none of it.
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gateway process: {cpu.TotalMicroseconds / options.Requests:F0} µs CPU per request"));
}

if (ProcessCpu(Environment.ProcessId) - ownBefore is { } own)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"this bench (load generator): {own.TotalMicroseconds / (2 * options.Requests):F0} µs CPU per request sent"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"gateway keeps {100 * gateway.Throughput / direct.Throughput:F0}% of direct throughput; adds {gateway.P50 - direct.P50:F2} ms at p50, {gateway.P99 - direct.P99:F2} ms at p99"));

async Task<Result> Run(string label, Func<HttpRequestMessage> make)
{
    var latencies = new double[options.Requests];
    var watch = Stopwatch.StartNew();
    await Drive(options.Requests, make, latencies);
    return Report(label, latencies, options.Requests / watch.Elapsed.TotalSeconds);
}

// At a fixed rate the two ways take turns in short blocks, so a pause of this shared machine (a GC,
// a checkpoint, another process) lands on both alike: run one after the other, a single stall
// decided which way had the worse p99 (the difference swung from -150 to +200 ms between runs).
async Task<(Result Direct, Result Gateway)> Interleaved()
{
    var perBlock = Math.Max(1, options.Rate * options.BlockMs / 1000);
    var latencies = new[] { new double[options.Requests], new double[options.Requests] };
    var counts = new int[2];
    var finished = new long[2];
    var origin = Stopwatch.GetTimestamp();
    var sent = new List<Task>(2 * options.Requests);
    for (var i = 0; counts[0] < options.Requests || counts[1] < options.Requests; i++)
    {
        var way = (i / perBlock) % 2;
        if (counts[way] == options.Requests)
        {
            way = 1 - way;
        }

        var due = origin + (long)((double)i * Stopwatch.Frequency / options.Rate);
        while (Stopwatch.GetTimestamp() < due)
        {
            await Task.Delay(1);
        }

        sent.Add(Timed(way, counts[way]++, due));
    }

    async Task Timed(int way, int index, long due)
    {
        await SendOne(ways[way], latencies[way], index, due);
        lock (finished)
        {
            finished[way] = Math.Max(finished[way], Stopwatch.GetTimestamp());
        }
    }

    await Task.WhenAll(sent);
    // Each way ran half the time at the full rate: a way that kept up served its requests at that rate
    // over its half of the run; one that fell behind finished later and shows less.
    double Throughput(int way) => options.Requests / ((finished[way] - origin) / (double)Stopwatch.Frequency / 2);
    return (Report("direct ", latencies[0], Throughput(0)), Report("gateway", latencies[1], Throughput(1)));
}

Result Report(string label, double[] latencies, double throughput)
{
    Array.Sort(latencies);
    var result = new Result(throughput, Percentile(latencies, 0.50), Percentile(latencies, 0.99), Percentile(latencies, 0.999));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label}: {result.Throughput,8:F0} req/s   p50 {result.P50,6:F2} ms   p99 {result.P99,6:F2} ms   p99.9 {result.P999,7:F2} ms"));
    return result;
}

async Task Drive(int count, Func<HttpRequestMessage> make, double[]? latencies)
{
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            await SendOne(make, latencies, i, Stopwatch.GetTimestamp());
        }
    }));
}

async Task SendOne(Func<HttpRequestMessage> make, double[]? latencies, int index, long start)
{
    using var request = make();
    using var response = await http.SendAsync(request);
    await response.Content.ReadAsByteArrayAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{request.RequestUri?.AbsolutePath} answered {(int)response.StatusCode}");
    }

    if (latencies is not null)
    {
        latencies[index] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}

static TimeSpan? ProcessCpu(int? pid)
{
    if (pid is not { } id || !File.Exists($"/proc/{id}/stat"))
    {
        return null;
    }

    // After "(command) " the state is field 3, so utime (14) and stime (15) are at 11 and 12, in 1/100 s.
    var stat = File.ReadAllText($"/proc/{id}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return TimeSpan.FromSeconds((long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0);
}

static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

internal sealed record Result(double Throughput, double P50, double P99, double P999);

internal sealed record Options(Uri Gateway, Uri Direct, string AdminKey, string Path, int Requests, int Concurrency, int Rate, string Method, string? Body, int Members, int? GatewayPid, int BlockMs, bool IdempotencyKeys)
{
    public static Options Parse(string[] args)
    {
        string Arg(string name, string? fallback) =>
            args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback ?? throw new ArgumentException($"{name} is required");

        return new Options(
            new Uri(Arg("--gateway", "http://127.0.0.1:5080")),
            new Uri(Arg("--direct", "http://127.0.0.1:5101")),
            Arg("--admin-key", Environment.GetEnvironmentVariable("FIDPASS_ADMIN_KEY")),
            Arg("--path", "/api/v1/merchants/{slug}/integration-keys"),
            int.Parse(Arg("--requests", "20000"), CultureInfo.InvariantCulture),
            int.Parse(Arg("--concurrency", "16"), CultureInfo.InvariantCulture),
            int.Parse(Arg("--rate", "0"), CultureInfo.InvariantCulture),
            Arg("--method", "GET"),
            args.Contains("--body") ? Arg("--body", null) : null,
            int.Parse(Arg("--members", "200"), CultureInfo.InvariantCulture),
            args.Contains("--gateway-pid") ? int.Parse(Arg("--gateway-pid", null), CultureInfo.InvariantCulture) : null,
            int.Parse(Arg("--block-ms", "100"), CultureInfo.InvariantCulture),
            args.Contains("--idempotency-keys"));
    }
}
