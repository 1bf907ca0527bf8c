using System.Net;
using System.Net.Http.Json;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>A gateway whose public routes that create something (sign-up, enrolment) allow 3 calls per minute per IP.</summary>
public class StrictPublicLimitFixture : GatewayFixture
{
    public const int PublicLimit = 3;

    protected override void ConfigureGateway(KestrelHost<GatewayApp> gateway) =>
        gateway.With("RateLimits:Public:PermitLimit", PublicLimit.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .With("RateLimits:Public:WindowSeconds", "60");
}

public sealed class PublicRateLimitTests(StrictPublicLimitFixture fixture) : IClassFixture<StrictPublicLimitFixture>
{
    [Fact]
    public async Task Public_routes_are_limited_per_client_more_strictly_than_authenticated_ones()
    {
        var ct = TestContext.Current.CancellationToken;
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < StrictPublicLimitFixture.PublicLimit + 1; i++)
        {
            var response = await fixture.Client.PostAsJsonAsync("/api/v1/signup", new { name = "Commerce " + i, email = $"s{i}-{Guid.NewGuid():N}@example.fr" }, ct);
            statuses.Add(response.StatusCode);
            limited = response;
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests], statuses);
        Assert.True(limited!.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal("rate_limited", await GatewayFixture.CodeOf(limited));

        // Authenticated routes from the same client are not affected by the public limit.
        var merchant = await fixture.CreateMerchantAsync();
        for (var i = 0; i < StrictPublicLimitFixture.PublicLimit + 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken)).StatusCode);
        }
    }
}
