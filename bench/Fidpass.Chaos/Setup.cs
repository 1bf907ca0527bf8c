using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

// Shared by ./fidpass chaos and ./fidpass bench (bench/Fidpass.Bench links this file): the
// merchant, key, members, reader and cash machine a run creates for itself through the gateway.
namespace Fidpass.Chaos;

internal sealed class RunLog
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public void Say(string line) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,7:F1} s] {line}"));
}

internal sealed record Merchant(Guid Id, string Slug, string DashboardToken);

internal static class Setup
{
    public static async Task<Merchant> CreateMerchantAsync(HttpClient http, string adminKey, string name = "Chaos")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/merchants")
        {
            Content = JsonContent.Create(new { name = name + " " + Guid.NewGuid().ToString("N")[..8], email = "chaos@example.fr" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await http.SendAsync(request);
        await Ensure(response, "create the merchant");
        var m = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return new Merchant(m.GetProperty("id").GetGuid(), m.GetProperty("slug").GetString()!, m.GetProperty("dashboardToken").GetString()!);
    }

    public static async Task<string> IssueKeyAsync(HttpClient http, Merchant merchant, string[] scopes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/integration-keys")
        {
            Content = JsonContent.Create(new { name = "Caisse chaos", scopes }),
        };
        request.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        using var response = await http.SendAsync(request);
        await Ensure(response, "issue the till's key");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
    }

    public static async Task<Guid[]> ImportMembersAsync(HttpClient http, Merchant merchant, int count, string tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/members/import")
        {
            Content = JsonContent.Create(Enumerable.Range(0, count).Select(i => new { name = $"Client {tag} {i}", email = $"{tag}{i}.{Guid.NewGuid():N}@example.fr" })),
        };
        request.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        using var response = await http.SendAsync(request);
        await Ensure(response, "import members");
        return [.. JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(r => Guid.Parse(r.GetProperty("memberId").GetString()!))];
    }

    public static async Task<string> ReaderAsync(HttpClient till, Merchant merchant)
    {
        // stripe-terminal gives every new merchant a simulated reader when it hears MerchantRegistered.
        for (var i = 0; i < 120; i++)
        {
            var readers = await till.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/terminal/readers");
            if (readers.GetArrayLength() > 0)
            {
                return readers[0].GetProperty("id").GetString()!;
            }

            await Task.Delay(500);
        }

        throw new InvalidOperationException("the merchant got no simulated reader within 60 s");
    }

    public static async Task<string> CashMachineAsync(HttpClient till, Merchant merchant, int port, string name = "Cashlogy chaos")
    {
        using var created = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/cash/machines",
            new { name, host = "127.0.0.1", port, tillCode = "1", mode = "express" });
        await Ensure(created, "declare the cash machine");
        var path = $"/api/v1/merchants/{merchant.Slug}/cash/machines/{(await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid()}";
        for (var i = 0; i < 120; i++)
        {
            if ((await till.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString() == "ready")
            {
                return path;
            }

            await Task.Delay(500);
        }

        throw new InvalidOperationException("the cash machine was not ready within 60 s");
    }

    private static async Task Ensure(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"could not {what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}

/// <summary>Our own CashlogyConnector simulator process (the one ./fidpass up starts serves the demo merchant's machine, and a Connector takes one client).</summary>
internal sealed class CashSimulator : IAsyncDisposable
{
    private readonly Process _process;

    private CashSimulator(Process process, int port, int controlPort)
    {
        _process = process;
        Port = port;
        Control = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{controlPort}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public HttpClient Control { get; }

    public static async Task<CashSimulator> StartAsync(string root, string state, string logName = "chaos-cashlogy-simulator.log")
    {
        var port = FreePort();
        var control = FreePort();
        var dll = Path.Combine(root, "simulators", "Fidpass.CashlogySimulator", "bin", "Release", "net10.0", "Fidpass.CashlogySimulator.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var a in new[] { dll, "--port", port.ToString(CultureInfo.InvariantCulture), "--control-port", control.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info)!;
        var logFile = Path.Combine(state, "logs", logName);
        _ = Task.Run(async () =>
        {
            await using var writer = new StreamWriter(logFile, append: false);
            string? line;
            while ((line = await process.StandardOutput.ReadLineAsync()) is not null)
            {
                await writer.WriteLineAsync(line);
            }
        });
        _ = Task.Run(async () => await process.StandardError.ReadToEndAsync());
        var sim = new CashSimulator(process, port, control);
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var health = await sim.Control.GetAsync(new Uri("/health", UriKind.Relative));
                if (health.IsSuccessStatusCode)
                {
                    return sim;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(300);
        }

        throw new InvalidOperationException("the run's own Cashlogy simulator did not start");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Control.Dispose();
    }
}

/// <summary>
/// Open-loop arrivals: <c>arrive(n)</c> is called at a fixed rate until <c>stop</c>, whatever the
/// earlier arrivals are still doing (so a slow answer cannot hide the requests queued behind it),
/// then every arrival is awaited. Nothing happens when the rate is 0.
/// </summary>
internal static class OpenLoop
{
    public static async Task RunAsync(int rate, Func<int, Task> arrive, CancellationToken stop)
    {
        if (rate <= 0)
        {
            return;
        }

        var inFlight = new List<Task>();
        var origin = Stopwatch.GetTimestamp();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var due = origin + (long)((double)n * Stopwatch.Frequency / rate);
            while (Stopwatch.GetTimestamp() < due)
            {
                await Task.Delay(1, CancellationToken.None);
            }

            inFlight.Add(arrive(n));
            if (inFlight.Count > 4000)
            {
                inFlight.RemoveAll(t => t.IsCompleted);
            }
        }

        await Task.WhenAll(inFlight);
    }
}
