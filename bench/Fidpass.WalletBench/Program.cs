using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Merchants;
using Fidpass.FakeApns;
using MassTransit;
using Npgsql;

// Usage (PostgreSQL and RabbitMQ up: ./fidpass infra up, or the test servers of /work/testenv.sh):
//   dotnet build bench/Fidpass.WalletBench -c Release
//   dotnet bench/Fidpass.WalletBench/bin/Release/net10.0/Fidpass.WalletBench.dll [--devices 10000] [--rate 200] \
//     [--duration 30] [--warmup 5] [--postgres <server cs>] [--rabbitmq amqp://…/] [--management http://user:pass@…/]
// Creates its own database and RabbitMQ vhost, starts a fake APNs in this process and the wallet
// service as its own process (services/wallet, Release build) against them, enrols --devices members
// and registers one iPhone per pass through the PassKit web service, then publishes PointsCredited
// as loyalty's relay does, at a fixed open-loop rate, each to another member. A credit's latency runs
// from when it was due to be published to when the fake APNs accepted its push (the wallet's
// consumer, its commit, the push over HTTP/2), so a backlog cannot hide.
var options = Options.Parse(args);
var run = Guid.NewGuid().ToString("N")[..8];
var folder = Directory.CreateTempSubdirectory("fidpass-wallet-bench-").FullName;
var database = $"wallet_bench_{run}";
var vhost = $"wallet-bench-{run}";
Process? wallet = null;
WebApplication? apns = null;
IBusControl? bus = null;
using var management = Management(options.Management);
await using (var admin = new NpgsqlConnection(options.Postgres))
{
    await admin.OpenAsync();
    await new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin).ExecuteNonQueryAsync();
}

var postgres = new NpgsqlConnectionStringBuilder(options.Postgres) { Database = database, MaxPoolSize = 40 }.ConnectionString;
(await management.PutAsync(new Uri($"api/vhosts/{vhost}", UriKind.Relative), null)).EnsureSuccessStatusCode();
var user = Uri.UnescapeDataString(options.RabbitMq.UserInfo.Split(':')[0]);
(await management.PutAsJsonAsync(new Uri($"api/permissions/{vhost}/{user}", UriKind.Relative), new { configure = ".*", write = ".*", read = ".*" }))
    .EnsureSuccessStatusCode();
var rabbitMq = new UriBuilder(options.RabbitMq) { Path = "/" + vhost }.Uri;
try
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var p8 = Path.Combine(folder, "AuthKey.p8");
    await File.WriteAllTextAsync(p8, key.ExportPkcs8PrivateKeyPem());
    apns = FakeApnsServer.Build(["--urls", "http://127.0.0.1:0", "--FakeApns:KeyPath", p8, "--Logging:LogLevel:Default", "Warning"]);
    await apns.StartAsync();
    var pushes = apns.Services.GetRequiredService<FakeApnsState>();

    var port = FreePort();
    var walletUrl = new Uri($"http://127.0.0.1:{port}");
    wallet = StartWallet(options, walletUrl, postgres, rabbitMq, apns.Urls.First(), p8);
    using var http = new HttpClient { BaseAddress = walletUrl, Timeout = TimeSpan.FromSeconds(30) };
    await Until(async () => (await http.GetAsync(new Uri("/alive", UriKind.Relative))).IsSuccessStatusCode, TimeSpan.FromSeconds(120), "wallet started");

    bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(rabbitMq));
    await bus.StartAsync();
    var merchantId = Guid.NewGuid();
    var members = Enumerable.Range(0, options.Devices).Select(_ => Guid.NewGuid()).ToArray();
    var clock = Stopwatch.StartNew();
    await bus.Publish(new MerchantRegistered(merchantId, "bench-" + run, "Bench wallet", "bench@example.fr", DateTimeOffset.UtcNow));
    await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 16 },
        async (member, ct) => await bus.Publish(new MemberEnrolled(member, merchantId, DateTimeOffset.UtcNow) { FirstName = "Client" }, ct));
    await Until(async () => await CountPassesAsync(postgres) >= members.Length, TimeSpan.FromMinutes(10), $"{members.Length} passes");
    Console.WriteLine($"{members.Length} passes in {clock.Elapsed.TotalSeconds:F0} s");

    clock.Restart();
    var tokens = await TokensAsync(postgres);
    var devices = members.ToDictionary(m => m, _ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
    await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (member, ct) =>
    {
        using var register = new HttpRequestMessage(HttpMethod.Post,
            $"/wallet/apple/v1/devices/bench-{member:N}/registrations/pass.fr.fidpass.test/{member}")
        {
            Content = JsonContent.Create(new { pushToken = devices[member] }),
        };
        register.Headers.TryAddWithoutValidation("Authorization", "ApplePass " + tokens[member]);
        using var response = await http.SendAsync(register, ct);
        response.EnsureSuccessStatusCode();
    });
    Console.WriteLine($"{members.Length} iPhones registered in {clock.Elapsed.TotalSeconds:F0} s");

    // Open loop: credit i is due at start + i / rate, whatever happened before it.
    var warmup = options.Rate * options.WarmupSeconds;
    var measured = options.Rate * options.DurationSeconds;
    var due = new DateTimeOffset[warmup + measured];
    var credited = new Guid[due.Length];
    var start = DateTimeOffset.UtcNow.AddMilliseconds(200);
    var publishing = Stopwatch.StartNew();
    var sends = new List<Task>();
    for (var i = 0; i < due.Length; i++)
    {
        due[i] = start.AddSeconds((double)i / options.Rate);
        credited[i] = members[i % members.Length];
        var wait = due[i] - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.FromMilliseconds(2))
        {
            await Task.Delay(wait);
        }

        sends.Add(bus.Publish(new PointsCredited(Guid.NewGuid(), credited[i], merchantId, 10, 10L * (1 + (i / members.Length)),
            PointsSource.Integration, null, due[i])));
    }

    await Task.WhenAll(sends);
    var published = publishing.Elapsed;
    await Until(() => Task.FromResult(pushes.Pushes.Count >= due.Length), TimeSpan.FromSeconds(120), "every credit pushed", throwOnTimeout: false);

    // The n-th push to a device answers the n-th credit of its member.
    var byDevice = pushes.Pushes.GroupBy(p => p.DeviceToken).ToDictionary(g => g.Key, g => new Queue<DateTimeOffset>(g.Select(p => p.At).Order()));
    var latencies = new List<double>();
    var pushedAt = new List<DateTimeOffset>();
    var missing = 0;
    for (var i = 0; i < due.Length; i++)
    {
        if (!byDevice.TryGetValue(devices[credited[i]], out var queue) || !queue.TryDequeue(out var at))
        {
            missing += i >= warmup ? 1 : 0;
            continue;
        }

        if (i >= warmup)
        {
            latencies.Add((at - due[i]).TotalMilliseconds);
            pushedAt.Add(at);
        }
    }

    latencies.Sort();
    var window = pushedAt.Count == 0 ? 0 : (pushedAt.Max() - due[warmup]).TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""

        Wallet pushes ({Environment.ProcessorCount} CPU): {members.Length} registered iPhones, {measured} credits at {options.Rate}/s (open loop, {options.DurationSeconds} s after {options.WarmupSeconds} s of warm-up)
          published in {published.TotalSeconds:F1} s (target {(double)due.Length / options.Rate:F1} s)
          pushes accepted by the fake APNs: {latencies.Count} ({missing} missing)
          pushes per second: {(window > 0 ? latencies.Count / window : 0):F0}
          credit → push latency: p50 {Percentile(latencies, 0.50):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {(latencies.Count == 0 ? 0 : latencies[^1]):F0} ms
        """));
    return missing == 0 ? 0 : 1;
}
finally
{
    if (bus is not null)
    {
        await bus.StopAsync();
    }

    if (wallet is { HasExited: false })
    {
        wallet.Kill(entireProcessTree: true);
        await wallet.WaitForExitAsync();
    }

    wallet?.Dispose();
    if (apns is not null)
    {
        await apns.DisposeAsync();
    }

    await using (var admin = new NpgsqlConnection(options.Postgres))
    {
        await admin.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin).ExecuteNonQueryAsync();
    }

    await management.DeleteAsync(new Uri($"api/vhosts/{vhost}", UriKind.Relative));
    Directory.Delete(folder, recursive: true);
}

static Process StartWallet(Options options, Uri url, string postgres, Uri rabbitMq, string apns, string p8)
{
    var start = new ProcessStartInfo("dotnet", [options.WalletDll]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    start.Environment["ASPNETCORE_URLS"] = url.ToString();
    start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
    start.Environment["ConnectionStrings__postgres"] = postgres;
    start.Environment["ConnectionStrings__rabbitmq"] = rabbitMq.ToString();
    start.Environment["Wallet__Apple__Apns__BaseAddress"] = apns;
    start.Environment["Wallet__Apple__Apns__KeyPath"] = p8;
    start.Environment["Logging__LogLevel__Default"] = "Warning";
    var process = Process.Start(start) ?? throw new InvalidOperationException("the wallet did not start");
    process.OutputDataReceived += (_, e) => { };
    process.ErrorDataReceived += (_, e) =>
    {
        if (e.Data is not null)
        {
            Console.Error.WriteLine("wallet: " + e.Data);
        }
    };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task<long> CountPassesAsync(string postgres)
{
    await using var connection = new NpgsqlConnection(postgres);
    await connection.OpenAsync();
    try
    {
        return (long)(await new NpgsqlCommand("SELECT count(*) FROM wallet.mt_doc_walletpass", connection).ExecuteScalarAsync())!;
    }
    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
    {
        return 0; // Marten creates its tables at the first document
    }
}

// Each pass's own token, read where the wallet keeps it (the card page's .pkpass carries the same).
static async Task<Dictionary<Guid, string>> TokensAsync(string postgres)
{
    await using var connection = new NpgsqlConnection(postgres);
    await connection.OpenAsync();
    await using var reader = await new NpgsqlCommand("SELECT id, data::text FROM wallet.mt_doc_walletpass", connection).ExecuteReaderAsync();
    var tokens = new Dictionary<Guid, string>();
    while (await reader.ReadAsync())
    {
        using var data = JsonDocument.Parse(reader.GetString(1));
        var token = data.RootElement.EnumerateObject().First(p => p.Name.Equals("AuthenticationToken", StringComparison.OrdinalIgnoreCase)).Value.GetString()!;
        tokens[reader.GetGuid(0)] = token;
    }

    return tokens;
}

static async Task Until(Func<Task<bool>> condition, TimeSpan within, string what, bool throwOnTimeout = true)
{
    var deadline = Stopwatch.StartNew();
    while (deadline.Elapsed < within)
    {
        try
        {
            if (await condition())
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
            // not listening yet
        }

        await Task.Delay(200);
    }

    if (throwOnTimeout)
    {
        throw new TimeoutException($"{what}: not within {within.TotalSeconds:F0} s");
    }

    Console.Error.WriteLine($"{what}: not within {within.TotalSeconds:F0} s");
}

static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static int FreePort()
{
    using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
}

static HttpClient Management(Uri management)
{
    var http = new HttpClient { BaseAddress = new UriBuilder(management) { UserName = "", Password = "" }.Uri };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
        Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(management.UserInfo))));
    return http;
}

/// <summary>Defaults: ./fidpass's PostgreSQL and RabbitMQ, or the test servers when /work/testenv.sh-like variables are set.</summary>
internal sealed record Options(int Devices, int Rate, int DurationSeconds, int WarmupSeconds, string Postgres, Uri RabbitMq, Uri Management, string WalletDll)
{
    public static Options Parse(string[] args)
    {
        string Arg(string name, string? fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"--{name} is required");
        }

        int Number(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var root = Directory.GetCurrentDirectory();
        return new Options(
            Number("devices", 10_000),
            Number("rate", 200),
            Number("duration", 30),
            Number("warmup", 5),
            Arg("postgres", Environment.GetEnvironmentVariable("FIDPASS_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=25432;Username=fidpass;Password=fidpass;Database=fidpass"),
            new Uri(Arg("rabbitmq", Environment.GetEnvironmentVariable("FIDPASS_TEST_RABBITMQ") ?? "amqp://fidpass:fidpass@127.0.0.1:26720/")),
            new Uri(Arg("management", Environment.GetEnvironmentVariable("FIDPASS_TEST_RABBITMQ_MANAGEMENT") ?? "http://fidpass:fidpass@127.0.0.1:25672/")),
            Arg("wallet-dll", Path.Combine(root, "services/wallet/bin/Release/net10.0/Fidpass.Wallet.dll")));
    }
}
