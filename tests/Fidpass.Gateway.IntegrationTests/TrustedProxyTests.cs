using System.Net;
using System.Net.Http.Json;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>
/// Per-IP public limits behind a reverse proxy: the forwarded client address counts only when the
/// connection comes from a configured proxy (the tests connect from 127.0.0.1).
/// </summary>
public sealed class TrustedProxyTests(StrictPublicLimitFixture fixture) : IClassFixture<StrictPublicLimitFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Behind_a_trusted_proxy_each_customer_has_their_own_budget()
    {
        var (_, behindIngress) = await fixture.StartGatewayAsync(gateway => gateway.With("ForwardedHeaders:KnownProxies:0", "127.0.0.1"));

        var first = await SignUpsAsync(behindIngress, StrictPublicLimitFixture.PublicLimit + 1, _ => "203.0.113.10");
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Created, StrictPublicLimitFixture.PublicLimit), HttpStatusCode.TooManyRequests], first);

        // Another customer behind the same ingress is not blocked by the first one.
        Assert.Equal([HttpStatusCode.Created], await SignUpsAsync(behindIngress, 1, _ => "203.0.113.11"));
    }

    [Fact]
    public async Task A_forwarded_address_from_an_untrusted_peer_is_ignored()
    {
        var (_, elsewhere) = await fixture.StartGatewayAsync(gateway => gateway
            .With("ForwardedHeaders:KnownProxies:0", "10.20.30.40")
            .With("ForwardedHeaders:KnownNetworks:0", "172.31.0.0/16"));

        // A client inventing a new X-Forwarded-For on every call still has one budget: its own address.
        var statuses = await SignUpsAsync(elsewhere, StrictPublicLimitFixture.PublicLimit + 1, i => $"198.51.100.{i + 1}");
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Created, StrictPublicLimitFixture.PublicLimit), HttpStatusCode.TooManyRequests], statuses);
    }

    private static async Task<List<HttpStatusCode>> SignUpsAsync(HttpClient gateway, int count, Func<int, string> forwardedFor)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/signup")
            {
                Content = JsonContent.Create(new { name = "Commerce " + i, email = $"p{i}-{Guid.NewGuid():N}@example.fr" }),
            };
            request.Headers.Add("X-Forwarded-For", forwardedFor(i));
            using var response = await gateway.SendAsync(request, Ct);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }
}
