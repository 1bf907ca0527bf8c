using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Fidpass.Contracts.Loyalty;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;
using MassTransit;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>
/// Spec section 1, public enrolment with an e-mail already enrolled: anyone on the internet learns
/// nothing about that member (the card link is mailed to the address instead), while the merchant's
/// own kiosk or till, with its credentials, gets the member back.
/// </summary>
public sealed class ReEnrolmentTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly ConcurrentQueue<MemberCardLinkRequested> _requested = new();
    private IBusControl _listener = null!;

    public async ValueTask InitializeAsync()
    {
        _listener = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(fixture.RabbitMq));
            bus.ReceiveEndpoint("test-card-links-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<MemberCardLinkRequested>(context =>
                {
                    _requested.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
            });
        });
        await _listener.StartAsync(Ct);
    }

    public async ValueTask DisposeAsync() => await _listener.StopAsync(CancellationToken.None);

    [Fact]
    public async Task Anonymous_re_enrolment_discloses_nothing_and_asks_for_the_card_link_by_email()
    {
        var merchant = fixture.NewMerchant();
        var email = $"ada.{Guid.NewGuid():N}@example.fr";
        var id = await merchant.EnrolAsync("Ada Lovelace", email);
        using var anonymous = merchant.Client(GatewayIdentity.Anonymous);

        using var again = await anonymous.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members", new { name = "Quelqu'un", email = email.ToUpperInvariant() }, Ct);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var raw = await again.Content.ReadAsStringAsync(Ct);
        Assert.Equal("""{"reused":true,"cardSentByEmail":true}""", raw);
        await Eventually.True(() => Task.FromResult(_requested.Any(r => r.MemberId == id)), what: "the card link requested for the existing member");
        var request = Assert.Single(_requested, r => r.MemberId == id);
        Assert.Equal((merchant.Id, email), (request.MerchantId, request.Email));
    }

    [Fact]
    public async Task The_merchants_kiosk_gets_the_existing_member_back_and_nothing_is_mailed()
    {
        var merchant = fixture.NewMerchant();
        var email = $"grace.{Guid.NewGuid():N}@example.fr";
        var id = await merchant.EnrolAsync("Grace Hopper", email);
        var path = $"/api/businesses/{merchant.Slug}/members";

        foreach (var (kind, scopes) in new[] { (GatewayIdentity.DashboardToken, ""), (GatewayIdentity.IntegrationKey, "members"), (GatewayIdentity.Session, "") })
        {
            using var kiosk = merchant.Client(kind, scopes);
            using var again = await kiosk.PostAsJsonAsync(path, new { name = "Grace H.", email }, Ct);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            var body = await again.BodyAsync();
            Assert.True(body.GetProperty("reused").GetBoolean());
            Assert.Equal(id, body.GetProperty("memberId").GetGuid());
            Assert.Equal("Grace Hopper", body.GetProperty("member").GetProperty("name").GetString());
            Assert.False(body.TryGetProperty("cardSentByEmail", out _));
        }

        // A key without the members scope is no kiosk: it learns nothing either.
        using var scanOnly = merchant.Client(GatewayIdentity.IntegrationKey, "scan lookup");
        using var refused = await scanOnly.PostAsJsonAsync(path, new { name = "Grace H.", email }, Ct);
        Assert.Equal("""{"reused":true,"cardSentByEmail":true}""", await refused.Content.ReadAsStringAsync(Ct));

        // Published in order from one process to one queue: the scan-only call's request is the only one.
        await Eventually.True(() => Task.FromResult(_requested.Any(r => r.MemberId == id)), what: "the scan-only call's card link request");
        Assert.Single(_requested, r => r.MemberId == id);
    }
}
