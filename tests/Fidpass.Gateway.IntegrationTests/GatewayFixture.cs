using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.MerchantToken;
using Fidpass.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>A service (or the gateway) on its real Program and a real Kestrel port, logging into the fixture's capture.</summary>
public sealed class KestrelHost<TMarker>(CapturedLogs logs) : ServiceHost<TMarker>
    where TMarker : class
{
    private int? _managementPort;

    public Uri Address { get; private set; } = null!;

    /// <summary>The second port <c>Management:Port</c> names, when <see cref="WithManagementPort"/> asked for one.</summary>
    public Uri? ManagementAddress => _managementPort is { } port ? new Uri($"http://127.0.0.1:{port}/") : null;

    /// <summary>Listen on a second, free port too, and name it <c>Management:Port</c>.</summary>
    public KestrelHost<TMarker> WithManagementPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        _managementPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        With("Management:Port", _managementPort.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(logs));
    }

    public Uri Start()
    {
        if (_managementPort is { } management)
        {
            UseKestrel(kestrel =>
            {
                kestrel.Listen(System.Net.IPAddress.Loopback, 0);
                kestrel.Listen(System.Net.IPAddress.Loopback, management);
            });
        }
        else
        {
            UseKestrel(0);
        }

        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => _managementPort is not { } port || !a.EndsWith(":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Address = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        return Address;
    }
}

public sealed record CreatedMerchant(Guid Id, string Slug, string Name, string Email, string DashboardToken, string DashboardUrl);

public sealed record IssuedKey(Guid Id, string Name, string[] Scopes, string Key);

/// <summary>
/// The gateway and merchant-token on real Kestrel ports, against the fixture's own PostgreSQL
/// database and RabbitMQ virtual host. More services join with <see cref="AddServiceAsync{TMarker}"/>
/// (override <see cref="StartServicesAsync"/>): each one is started and the gateway's cluster of
/// that name is pointed at it. Every secret the fixture sees is remembered, so tests can check no
/// log line or span ever carries one.
/// </summary>
public class GatewayFixture : IAsyncLifetime
{
    public const int CredentialRateLimit = 200;
    private readonly List<IAsyncDisposable> _hosts = [];
    private readonly Dictionary<string, Uri> _clusters = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _secrets = [];
    private readonly List<HttpClient> _clients = [];

    public string AdminKey { get; } = "op_" + Guid.NewGuid().ToString("N");
    public CapturedLogs Logs { get; } = new();
    public CapturedActivities Activities { get; } = new();
    public string Postgres { get; private set; } = "";
    public string RabbitMq { get; private set; } = "";
    public KestrelHost<MerchantTokenApi> MerchantToken { get; private set; } = null!;
    public KestrelHost<GatewayApp> Gateway { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Secrets issued or used during the run (tokens, keys, sessions, the operator key).</summary>
    public IReadOnlyCollection<string> Secrets => [.. _secrets, AdminKey];

    /// <summary>
    /// No secret handed out so far appears in a captured log line or span, raw or URL-encoded; the
    /// query string is recorded on spans (with values redacted), so the check covers <c>?token=</c>.
    /// </summary>
    public void AssertNoSecretLogged()
    {
        var logs = Logs.Lines.ToList();
        var spans = Activities.Spans.ToList();
        Assert.NotEmpty(logs);
        Assert.Contains(spans, span => span.Contains("url.query=", StringComparison.Ordinal) && span.Contains("barcode=", StringComparison.Ordinal));
        foreach (var secret in Secrets)
        {
            Assert.DoesNotContain(logs, line => line.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(spans, span => span.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(spans, span => span.Contains(Uri.EscapeDataString(secret), StringComparison.Ordinal));
        }
    }

    public virtual async ValueTask InitializeAsync()
    {
        Postgres = await TestServers.CreateDatabaseAsync("gateway_it");
        RabbitMq = await TestServers.CreateVirtualHostAsync("gateway-it");
        await StartServicesAsync();

        (Gateway, Client) = await StartGatewayAsync();
    }

    /// <summary>Starts a gateway replica in front of the fixture's services (the fixture starts one; tests may add more, with their own settings).</summary>
    public async Task<(KestrelHost<GatewayApp> Host, HttpClient Client)> StartGatewayAsync(Action<KestrelHost<GatewayApp>>? configure = null)
    {
        var gateway = new KestrelHost<GatewayApp>(Logs);
        gateway.WithInfrastructure(Postgres, RabbitMq)
            .With("RateLimits:PerCredential:PermitLimit", CredentialRateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .With("RateLimits:PerCredential:WindowSeconds", "10")
            .With("RateLimits:PerIp:PermitLimit", "1000000")
            .With("RateLimits:Public:PermitLimit", "1000")
            .With("Cors:AllowedOrigins:0", AllowedOrigin);
        foreach (var (cluster, address) in _clusters)
        {
            gateway.With($"ReverseProxy:Clusters:{cluster}:Destinations:primary:Address", address.ToString());
        }

        ConfigureGateway(gateway);
        configure?.Invoke(gateway);
        Track(gateway);
        var client = new HttpClient { BaseAddress = gateway.Start() };
        _clients.Add(client);

        // The revocation queue must be bound before any test revokes anything.
        await Eventually.True(async () => (await client.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode == HttpStatusCode.OK, what: "gateway /health");
        return (gateway, client);
    }

    public const string AllowedOrigin = "https://web.fidpass.test";

    /// <summary>Last word on the gateway's settings (limits, …) before it starts.</summary>
    protected virtual void ConfigureGateway(KestrelHost<GatewayApp> gateway)
    {
    }

    /// <summary>Starts the services behind the gateway; derived fixtures add theirs (loyalty, …) after calling this.</summary>
    protected virtual async Task StartServicesAsync()
    {
        MerchantToken = await AddServiceAsync<MerchantTokenApi>("merchant-token", host => host.With("FIDPASS_ADMIN_KEY", AdminKey));
    }

    /// <summary>Starts <typeparamref name="TMarker"/>'s service on Kestrel and points the gateway's <paramref name="cluster"/> at it.</summary>
    public Task<KestrelHost<TMarker>> AddServiceAsync<TMarker>(string cluster, Action<KestrelHost<TMarker>>? configure = null)
        where TMarker : class
    {
        var host = new KestrelHost<TMarker>(Logs);
        host.WithInfrastructure(Postgres, RabbitMq);
        configure?.Invoke(host);
        _clusters[cluster] = host.Start();
        return Task.FromResult(Track(host));
    }

    /// <summary>Points the gateway's <paramref name="cluster"/> at a server the test started itself (before the gateway starts).</summary>
    protected void PointCluster(string cluster, Uri address) => _clusters[cluster] = address;

    public string Remember(string secret)
    {
        _secrets.Add(secret);
        return secret;
    }

    public async Task<CreatedMerchant> CreateMerchantAsync(string? name = null)
    {
        name ??= "Commerce " + Guid.NewGuid().ToString("N")[..8];
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/merchants") { Content = JsonContent.Create(new { name, email = "contact@example.fr" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var merchant = (await response.Content.ReadFromJsonAsync<CreatedMerchant>())!;
        Remember(merchant.DashboardToken);
        return merchant;
    }

    public async Task<IssuedKey> IssueKeyAsync(CreatedMerchant merchant, params string[] scopes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/integration-keys")
        {
            Content = JsonContent.Create(new { name = "Caisse comptoir", scopes }),
        };
        request.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var key = (await response.Content.ReadFromJsonAsync<IssuedKey>())!;
        Remember(key.Key);
        return key;
    }

    /// <summary>GET the merchant's integration keys through the gateway with a credential in the given place.</summary>
    public async Task<HttpResponseMessage> ListKeysAsync(string slug, string? credential, string place = "header")
    {
        var path = $"/api/v1/merchants/{slug}/integration-keys";
        if (place == "query" && credential is not null)
        {
            path += "?token=" + Uri.EscapeDataString(credential);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (credential is not null && place == "header")
        {
            request.Headers.Add("X-Dashboard-Token", credential);
        }
        else if (credential is not null && place == "bearer")
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        return await Client.SendAsync(request);
    }

    public static async Task<string?> CodeOf(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(body).RootElement.TryGetProperty("code", out var code) ? code.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private T Track<T>(T host)
        where T : IAsyncDisposable
    {
        _hosts.Add(host);
        return host;
    }

    public virtual async ValueTask DisposeAsync()
    {
        _clients.ForEach(c => c.Dispose());
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].DisposeAsync();
        }

        Activities.Dispose();
        GC.SuppressFinalize(this);
    }
}
