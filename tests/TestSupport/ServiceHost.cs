using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Testing;

/// <summary>
/// One service (or the gateway) hosted in the test process on its real Program, against its own
/// database and RabbitMQ virtual host. <typeparamref name="TMarker"/> is any public type of the
/// service's assembly.
/// </summary>
public class ServiceHost<TMarker> : WebApplicationFactory<TMarker>
    where TMarker : class
{
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Action<IServiceCollection>> _services = [];
    private string _environment = "Testing";

    /// <summary>
    /// Loyalty answers a sale's member check in milliseconds, but a busy CI machine once made it miss the
    /// 1 s production bound and a test read « loyalty unavailable »; tests give it room.
    /// </summary>
    public ServiceHost() => _settings["Loyalty:MemberCheckTimeout"] = "00:00:10";

    // The services end their Program with JasperFx's command line (operator commands such as
    // `projections rebuild`); under WebApplicationFactory it must start the host it is handed.
    static ServiceHost() => JasperFx.CommandLine.JasperFxEnvironment.AutoStartHost = true;

    public ServiceHost<TMarker> With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Adds or replaces registrations after the service's own (e.g. a telemetry exporter).</summary>
    public ServiceHost<TMarker> WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    /// <summary>The hosting environment (<c>Testing</c> by default), for behaviour that depends on it (Development, Production).</summary>
    public ServiceHost<TMarker> WithEnvironment(string environment)
    {
        _environment = environment;
        return this;
    }

    /// <summary>
    /// cashlogy-edge: the Cashlogy simulators listen on 127.0.0.1, an address a real deployment refuses
    /// for a machine (only shop networks are allowed), so test hosts allow loopback explicitly.
    /// </summary>
    public ServiceHost<TMarker> AllowingLoopbackCashMachines() => With("CashMachines:AllowedNetworks:0", "127.0.0.0/8");

    public ServiceHost<TMarker> WithInfrastructure(string postgres, string rabbitMq) =>
        With("ConnectionStrings:postgres", postgres).With("ConnectionStrings:rabbitmq", rabbitMq);

    /// <summary>
    /// Starts the host and waits until <c>/health</c> is green: MassTransit reports ready only once
    /// every receive endpoint is bound, so a message published after this reaches the consumers.
    /// </summary>
    public async Task<ServiceHost<TMarker>> StartedAsync()
    {
        using var client = CreateClient();
        await Eventually.True(async () => (await client.GetAsync(new Uri("/health", UriKind.Relative))).IsSuccessStatusCode,
            what: $"{typeof(TMarker).Name} /health");
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        foreach (var configure in _services)
        {
            builder.ConfigureServices(configure);
        }
    }
}
