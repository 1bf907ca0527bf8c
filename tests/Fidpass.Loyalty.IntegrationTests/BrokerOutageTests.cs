using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Fidpass.Testing;
using MassTransit;
using LoyaltyContracts = Fidpass.Contracts.Loyalty;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>
/// RabbitMQ out of reach while credits are committed (a broker restart, a network cut): the credits
/// are stored, and once the broker is back the relay publishes every one of them by itself. Loyalty
/// reaches RabbitMQ through <see cref="CuttableProxy"/>, so the outage is real for loyalty's
/// connections and for nothing else; the test's own listener talks to RabbitMQ directly.
/// </summary>
public sealed class BrokerOutageTests : IAsyncLifetime
{
    private CuttableProxy _proxy = null!;
    private ServiceHost<LoyaltyApi> _host = null!;
    private string _rabbitMq = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var postgres = await TestServers.CreateDatabaseAsync("loyalty");
        _rabbitMq = await TestServers.CreateVirtualHostAsync("loyalty");
        var broker = new Uri(_rabbitMq);
        _proxy = CuttableProxy.Start(broker.Host, broker.Port);
        var throughProxy = new UriBuilder(broker) { Host = "127.0.0.1", Port = _proxy.Port }.Uri.ToString();
        _host = new ServiceHost<LoyaltyApi>().WithInfrastructure(postgres, throughProxy);
        await _host.StartedAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _proxy.Dispose();
    }

    [Fact]
    public async Task Credits_committed_while_RabbitMQ_is_unreachable_are_published_once_it_is_back_without_a_restart()
    {
        var merchant = new TestMerchant(_host, Guid.NewGuid(), "shop-" + Guid.NewGuid().ToString("N")[..10]);
        var member = await merchant.EnrolAsync();
        var credited = new ConcurrentDictionary<Guid, LoyaltyContracts.PointsCredited>();
        var listener = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(_rabbitMq));
            bus.ReceiveEndpoint("test-outage-credits-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<LoyaltyContracts.PointsCredited>(context =>
                {
                    if (context.Message.MemberId == member)
                    {
                        credited.TryAdd(context.Message.OperationId, context.Message);
                    }

                    return Task.CompletedTask;
                });
            });
        });
        await listener.StartAsync(Ct);
        try
        {
            (await merchant.ScanAsync($$"""{"barcode":"{{member}}","amount_eur":"3.00"}""")).EnsureSuccessStatusCode();
            await Eventually.True(() => Task.FromResult(credited.Count == 1), what: "the first credit published");

            // The broker goes out of reach: open connections are cut, new ones refused.
            _proxy.Cut();
            (await merchant.ScanAsync($$"""{"barcode":"{{member}}","amount_eur":"5.00"}""")).EnsureSuccessStatusCode();
            (await merchant.ScanAsync($$"""{"barcode":"{{member}}","amount_eur":"7.00"}""")).EnsureSuccessStatusCode();
            Assert.Equal(15, await merchant.BalanceAsync(member)); // committed: the till and the balance know
            await Task.Delay(TimeSpan.FromSeconds(20), Ct);         // longer than any retry policy of the daemon
            Assert.Single(credited);

            _proxy.Restore();
            await Eventually.True(() => Task.FromResult(credited.Count == 3), within: TimeSpan.FromSeconds(60), what: "both credits published after the outage");
            Assert.Equal([3L, 5L, 7L], credited.Values.Select(c => c.Points).Order());
            Assert.Equal(15, credited.Values.Max(c => c.NewBalance));
        }
        finally
        {
            await listener.StopAsync(Ct);
        }
    }
}

/// <summary>A TCP forwarder to RabbitMQ that can drop every connection and refuse new ones, like a broker restart seen from a client.</summary>
internal sealed class CuttableProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly string _host;
    private readonly int _port;
    private readonly ConcurrentBag<TcpClient> _open = [];
    private volatile bool _cut;

    private CuttableProxy(string host, int port)
    {
        _host = host;
        _port = port;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static CuttableProxy Start(string host, int port) => new(host, port);

    public void Cut()
    {
        _cut = true;
        while (_open.TryTake(out var client))
        {
            client.Dispose();
        }
    }

    public void Restore() => _cut = false;

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_cut)
            {
                inbound.Dispose(); // refused, as by a broker that is not listening
                continue;
            }

            _ = ForwardAsync(inbound);
        }
    }

    private async Task ForwardAsync(TcpClient inbound)
    {
        using var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(_host, _port);
            _open.Add(inbound);
            _open.Add(outbound);
            var a = inbound.GetStream().CopyToAsync(outbound.GetStream());
            var b = outbound.GetStream().CopyToAsync(inbound.GetStream());
            await Task.WhenAny(a, b);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            inbound.Dispose();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        Cut();
    }
}
