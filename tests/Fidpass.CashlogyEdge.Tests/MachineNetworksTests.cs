using System.Net;
using Fidpass.CashlogyEdge.Machines;
using Microsoft.Extensions.Configuration;

namespace Fidpass.CashlogyEdge.Tests;

public sealed class MachineNetworksTests
{
    private static MachineNetworks Configured(params (string Key, string Value)[] settings) =>
        MachineNetworks.From(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    [Theory]
    [InlineData("192.168.1.20", true)]
    [InlineData("10.12.0.7", true)]
    [InlineData("172.20.3.4", true)]
    [InlineData("::ffff:192.168.1.20", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("fe80::1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("172.32.0.1", false)]
    public void By_default_only_the_private_LAN_ranges_of_shops_are_allowed(string address, bool allowed) =>
        Assert.Equal(allowed, Configured().Allows(IPAddress.Parse(address)));

    [Fact]
    public void The_cluster_ranges_stay_refused_inside_an_allowed_network()
    {
        var networks = Configured(("CashMachines:ClusterNetworks:0", "10.96.0.0/12"), ("CashMachines:ClusterNetworks:1", "10.244.0.0/16"));

        Assert.False(networks.Allows(IPAddress.Parse("10.96.0.1")));
        Assert.False(networks.Allows(IPAddress.Parse("10.244.3.9")));
        Assert.True(networks.Allows(IPAddress.Parse("10.1.2.3")));
    }

    [Fact]
    public void Loopback_is_allowed_only_when_configured_explicitly_and_then_replaces_the_defaults()
    {
        var networks = Configured(("CashMachines:AllowedNetworks:0", "127.0.0.0/8"));

        Assert.True(networks.Allows(IPAddress.Parse("127.0.0.1")));
        Assert.False(networks.Allows(IPAddress.Parse("192.168.1.20")));
        Assert.False(Configured(("CashMachines:AllowedNetworks:0", "0.0.0.0/0")).Allows(IPAddress.Parse("127.0.0.1")));
    }

    [Fact]
    public async Task A_host_name_passes_only_if_every_address_it_resolves_to_is_allowed()
    {
        Assert.Null(await Configured().ResolveAllowedAsync("localhost", TestContext.Current.CancellationToken));
        Assert.Null(await Configured().ResolveAllowedAsync("no-such-machine.invalid", TestContext.Current.CancellationToken));
        Assert.NotNull(await Configured(("CashMachines:AllowedNetworks:0", "127.0.0.0/8"), ("CashMachines:AllowedNetworks:1", "::1/128"))
            .ResolveAllowedAsync("localhost", TestContext.Current.CancellationToken));
    }

    [Fact]
    public void A_network_that_is_not_CIDR_stops_the_service_at_start() =>
        Assert.Throws<InvalidOperationException>(() => Configured(("CashMachines:AllowedNetworks:0", "192.168.1.0/33")));
}
