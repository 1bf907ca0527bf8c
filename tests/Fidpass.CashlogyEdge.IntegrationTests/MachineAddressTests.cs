using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Fidpass.Testing;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>
/// A till chooses the address cashlogy-edge connects to: it must be a shop's machine, never the
/// platform itself (loopback, cloud metadata, the cluster), and the answers must not map open ports.
/// </summary>
public sealed class MachineAddressTests(EdgeFixture fixture)
{
    [Fact]
    public async Task A_machine_address_outside_the_shop_networks_is_refused_and_nothing_changes()
    {
        var database = await TestServers.CreateDatabaseAsync("cashlogy_addresses");
        // The production default (shop LANs) plus a cluster range inside one of them.
        await using var host = fixture.CreateHost(database)
            .With("CashMachines:AllowedNetworks:0", "10.0.0.0/8")
            .With("CashMachines:AllowedNetworks:1", "192.168.0.0/16")
            .With("CashMachines:ClusterNetworks:0", "10.96.0.0/12");
        using var http = host.CreateClient();
        var slug = "epicerie-" + Guid.NewGuid().ToString("N")[..6];
        Till.Identify(http, Guid.NewGuid(), slug, "cash");
        var machines = $"/api/v1/merchants/{slug}/cash/machines";

        foreach (var refused in new[] { "127.0.0.1", "localhost", "169.254.169.254", "::1", "::ffff:127.0.0.1", "0.0.0.0", "10.96.0.1", "8.8.8.8" })
        {
            var answer = await http.PostAsJsonAsync(machines, new { name = "Caisse", host = refused, port = 8092 }, Till.Ct);
            Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (answer.StatusCode, answer.Content.Headers.ContentType?.MediaType));
            var problem = await answer.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);
            Assert.Equal("machine_address_not_allowed", problem.GetProperty("code").GetString());
            Assert.Contains("réseau local du commerce", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(0, (await http.GetFromJsonAsync<JsonElement>(machines, Till.Ct)).GetArrayLength());

        // A shop address is accepted; moving it onto the platform is refused and leaves it where it was.
        var created = await http.PostAsJsonAsync(machines, new { name = "Caisse", host = "192.168.1.50", port = 8092 }, Till.Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var machine = $"{machines}/{(await created.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("id").GetGuid()}";
        var moved = await http.PutAsJsonAsync(machine, new { name = "Caisse", host = "169.254.169.254", port = 80 }, Till.Ct);
        Assert.Equal(HttpStatusCode.BadRequest, moved.StatusCode);
        var kept = await http.GetFromJsonAsync<JsonElement>(machine, Till.Ct);
        Assert.Equal(("192.168.1.50", 8092), (kept.GetProperty("host").GetString(), kept.GetProperty("port").GetInt32()));
    }

    [Fact]
    public async Task A_closed_port_and_a_port_that_never_answers_look_the_same_to_the_till()
    {
        var http = fixture.Host.CreateClient();
        var slug = "fromagerie-" + Guid.NewGuid().ToString("N")[..6];
        Till.Identify(http, Guid.NewGuid(), slug, "cash");
        var machines = $"/api/v1/merchants/{slug}/cash/machines";

        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        // A full accept queue: the kernel drops new SYNs, so a connection attempt times out.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(0);
        var silentPort = ((IPEndPoint)silent.LocalEndPoint!).Port;
        using var filler = new TcpClient();
        await filler.ConnectAsync(IPAddress.Loopback, silentPort, Till.Ct);

        async Task<(string Status, string? Detail, string Test)> SeenAsync(int port, string name)
        {
            var created = await http.PostAsJsonAsync(machines, new { name, host = "127.0.0.1", port }, Till.Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var machine = $"{machines}/{(await created.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("id").GetGuid()}";
            var view = await Eventually.Get(() => http.GetFromJsonAsync<JsonElement>(machine, Till.Ct),
                m => m.GetProperty("statusDetail").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(15), $"{name}: first connection attempt over");
            var test = await http.PostAsync(new Uri($"{machine}/test", UriKind.Relative), null, Till.Ct);
            var problem = await test.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);
            return (view.GetProperty("status").GetString()!, view.GetProperty("statusDetail").GetString(),
                $"{(int)test.StatusCode} {problem.GetProperty("code").GetString()} {problem.GetProperty("detail").GetString()}");
        }

        var refused = await SeenAsync(closedPort, "Refusée");
        var timedOut = await SeenAsync(silentPort, "Muette");

        Assert.Equal(("offline", "Connector injoignable"), (refused.Status, refused.Detail));
        Assert.Equal(refused, timedOut);
    }
}
