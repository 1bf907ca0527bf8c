using System.Net;
using System.Net.Sockets;

namespace Fidpass.CashlogyEdge.Machines;

/// <summary>
/// Where a cash machine may be. The service opens TCP connections to whatever address a till
/// registers, so an address is accepted only inside the shop networks of <c>CashMachines:AllowedNetworks</c>
/// (CIDR; by default the private LAN ranges 10/8, 172.16/12, 192.168/16). Loopback, link-local (cloud
/// metadata at 169.254.169.254), unspecified, multicast and the cluster's own ranges
/// (<c>CashMachines:ClusterNetworks</c>) are refused even inside an allowed network, unless an allowed
/// entry lies entirely within them: <c>127.0.0.0/8</c> is how development and tests allow the simulator,
/// while <c>10.0.0.0/8</c> never opens a cluster range <c>10.96.0.0/12</c>. A host name is resolved and
/// every address it gives must pass.
/// </summary>
public sealed class MachineNetworks(IReadOnlyList<IPNetwork> allowed, IReadOnlyList<IPNetwork> cluster)
{
    public const string AllowedKey = "CashMachines:AllowedNetworks";
    public const string ClusterKey = "CashMachines:ClusterNetworks";

    public static readonly IReadOnlyList<IPNetwork> ShopLans = Parse(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], "default");

    private static readonly IReadOnlyList<IPNetwork> Platform = Parse(
        ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8", "255.255.255.255/32"], "built-in");

    public static MachineNetworks From(IConfiguration configuration)
    {
        var allowed = configuration.GetSection(AllowedKey).Get<string[]>() ?? [];
        var cluster = configuration.GetSection(ClusterKey).Get<string[]>() ?? [];
        return new(allowed.Length == 0 ? ShopLans : Parse(allowed, AllowedKey), Parse(cluster, ClusterKey));
    }

    /// <summary>Every address of <paramref name="host"/> when all are allowed; null when one is not, or the name does not resolve.</summary>
    public async Task<IPAddress[]?> ResolveAllowedAsync(string host, CancellationToken ct)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, ct);
            }
            catch (SocketException)
            {
                return null;
            }
        }

        return addresses.Length > 0 && addresses.All(Allows) ? addresses : null;
    }

    public bool Allows(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var inside = allowed.Where(n => n.Contains(address)).ToList();
        return inside.Count > 0 && Platform.Concat(cluster).Where(n => n.Contains(address))
            .All(refused => inside.Any(n => Within(n, refused)));
    }

    private static bool Within(IPNetwork inner, IPNetwork outer) =>
        inner.PrefixLength >= outer.PrefixLength && outer.Contains(inner.BaseAddress);

    private static List<IPNetwork> Parse(IEnumerable<string> cidrs, string source) =>
        cidrs.Select(c => IPNetwork.TryParse(c.Trim(), out var network)
            ? network
            : throw new InvalidOperationException($"{source}: « {c} » is not a network in CIDR notation (e.g. 192.168.1.0/24).")).ToList();
}
