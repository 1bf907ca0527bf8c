using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Fidpass.Gateway.Protection;

/// <summary>
/// Behind a reverse proxy (the ingress) the client address comes from <c>X-Forwarded-For</c>, but only
/// when the connection comes from a configured proxy: <c>ForwardedHeaders:KnownProxies</c> (addresses)
/// and <c>ForwardedHeaders:KnownNetworks</c> (CIDR ranges). Nothing configured: no proxy is trusted
/// (not even loopback, ASP.NET Core's default), and a client's own <c>X-Forwarded-For</c> changes nothing.
/// <c>ForwardedHeaders:ForwardLimit</c> (1): how many proxies deep the address is taken.
/// </summary>
public static class ForwardedHeadersSetup
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection("ForwardedHeaders");
        var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
        var networks = section.GetSection("KnownNetworks").Get<string[]>() ?? [];
        return services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = int.TryParse(section["ForwardLimit"], CultureInfo.InvariantCulture, out var limit) && limit > 0 ? limit : 1;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies.Where(p => !string.IsNullOrWhiteSpace(p)))
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy.Trim()));
            }

            foreach (var network in networks.Where(n => !string.IsNullOrWhiteSpace(n)))
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network.Trim()));
            }
        });
    }
}
