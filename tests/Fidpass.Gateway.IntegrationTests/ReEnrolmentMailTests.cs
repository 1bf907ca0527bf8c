using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Contracts.Loyalty;
using Fidpass.Loyalty;
using Fidpass.MerchantToken.Mail;
using Fidpass.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>Gateway, merchant-token (which mails) and loyalty (which enrols).</summary>
public sealed class EnrolmentFixture : GatewayFixture
{
    protected override async Task StartServicesAsync()
    {
        await base.StartServicesAsync();
        await AddServiceAsync<LoyaltyApi>("loyalty");
    }
}

/// <summary>
/// Public enrolment with an e-mail already enrolled (spec section 1): through the gateway, an
/// anonymous caller learns nothing and the card link is mailed to that address, once; the
/// merchant's kiosk, with its credential on the public route, gets the member back.
/// </summary>
public sealed class ReEnrolmentMailTests(EnrolmentFixture fixture) : IClassFixture<EnrolmentFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string NothingDisclosed = """{"reused":true,"cardSentByEmail":true}""";

    [Fact]
    public async Task An_anonymous_re_enrolment_mails_the_card_link_and_the_merchants_kiosk_gets_the_member()
    {
        var shop = await fixture.CreateMerchantAsync("Boulangerie Réinscription");
        var other = await fixture.CreateMerchantAsync();
        var email = $"ada.{Guid.NewGuid():N}@example.fr";
        var path = $"/api/businesses/{shop.Slug}/members";

        using var created = await fixture.Client.PostAsJsonAsync(path, new { name = "Ada Lovelace", email }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var memberId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();

        Assert.Equal(NothingDisclosed, await EnrolAgainAsync(path, email, credential: null));
        var mail = Assert.Single(await Eventually.Get(() => MailsToAsync(email), mails => mails.Count > 0, what: "the card link mailed"));
        var cardUrl = CardLinkMailConsumer.CardUrl(fixture.MerchantToken.Services.GetRequiredService<IConfiguration>(), shop.Slug, memberId);
        Assert.EndsWith($"/carte/{shop.Slug}/{memberId}", cardUrl, StringComparison.Ordinal);
        Assert.Contains(cardUrl, mail.GetProperty("textBody").GetString(), StringComparison.Ordinal);
        Assert.Contains("Boulangerie Réinscription", mail.GetProperty("subject").GetString(), StringComparison.Ordinal);

        // The merchant's own credentials on the public route: the member, as the historical API did.
        var members = await fixture.IssueKeyAsync(shop, "members");
        foreach (var kiosk in new[] { shop.DashboardToken, members.Key })
        {
            var body = JsonDocument.Parse(await EnrolAgainAsync(path, email, kiosk)).RootElement;
            Assert.Equal(memberId, body.GetProperty("memberId").GetGuid());
            Assert.Equal("Ada Lovelace", body.GetProperty("member").GetProperty("name").GetString());
        }

        // A key without the members scope, or another merchant's token, is no kiosk of this shop.
        var scanOnly = await fixture.IssueKeyAsync(shop, "scan");
        Assert.Equal(NothingDisclosed, await EnrolAgainAsync(path, email, scanOnly.Key));
        Assert.Equal(NothingDisclosed, await EnrolAgainAsync(path, email, other.DashboardToken));
        await Eventually.True(async () => (await MailsToAsync(email)).Count == 3, what: "one mail per anonymous re-enrolment");
    }

    [Fact]
    public async Task A_redelivered_card_link_request_sends_no_second_mail()
    {
        var shop = await fixture.CreateMerchantAsync("Café Redélivré");
        var email = $"grace.{Guid.NewGuid():N}@example.fr";
        var request = new MemberCardLinkRequested(Guid.NewGuid(), shop.Id, Guid.NewGuid(), email, DateTimeOffset.UtcNow);
        var consumed = new ConsumedRequests(request.RequestId);
        var bus = fixture.MerchantToken.Services.GetRequiredService<IBus>();
        using var observing = bus.ConnectConsumeObserver(consumed);

        await bus.Publish(request, Ct);
        await bus.Publish(request, Ct);

        await Eventually.True(() => Task.FromResult(consumed.Count >= 2), what: "both deliveries consumed");
        var mails = await MailsToAsync(email);
        var mail = Assert.Single(mails);
        Assert.Contains($"/carte/{shop.Slug}/{request.MemberId}", mail.GetProperty("textBody").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_card_link_mail_also_links_to_the_card_in_apple_wallet_and_google_wallet()
    {
        var shop = await fixture.CreateMerchantAsync("Épicerie Portefeuille");
        var email = $"hedy.{Guid.NewGuid():N}@example.fr";
        var request = new MemberCardLinkRequested(Guid.NewGuid(), shop.Id, Guid.NewGuid(), email, DateTimeOffset.UtcNow);
        await fixture.MerchantToken.Services.GetRequiredService<IBus>().Publish(request, Ct);

        var mail = Assert.Single(await Eventually.Get(() => MailsToAsync(email), mails => mails.Count > 0, what: "the card link mailed"));
        var body = mail.GetProperty("textBody").GetString();
        var configuration = fixture.MerchantToken.Services.GetRequiredService<IConfiguration>();
        foreach (var wallet in new[] { "apple", "google" })
        {
            // The wallet service's public routes, as the card page links them.
            var url = CardLinkMailConsumer.WalletUrl(configuration, shop.Slug, request.MemberId, wallet);
            Assert.EndsWith($"/api/v1/merchants/{shop.Slug}/cards/{request.MemberId}/wallet/{wallet}", url, StringComparison.Ordinal);
            Assert.Contains(url, body, StringComparison.Ordinal);
        }

        Assert.Contains("Apple Wallet", body, StringComparison.Ordinal);
        Assert.Contains("Google Wallet", body, StringComparison.Ordinal);
    }

    private async Task<string> EnrolAgainAsync(string path, string email, string? credential)
    {
        using var enrol = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new { name = "Quelqu'un", email }) };
        if (credential is not null)
        {
            enrol.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        using var response = await fixture.Client.SendAsync(enrol, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    private async Task<List<JsonElement>> MailsToAsync(string email)
    {
        using var direct = new HttpClient { BaseAddress = fixture.MerchantToken.Address };
        var mails = await direct.GetFromJsonAsync<JsonElement>("/dev/mailbox.json", Ct);
        return [.. mails.EnumerateArray().Where(m => m.GetProperty("to").GetString() == email)];
    }

    /// <summary>Counts the completed consumptions of one card link request by merchant-token.</summary>
    private sealed class ConsumedRequests(Guid requestId) : IConsumeObserver
    {
        private readonly ConcurrentBag<Guid> _seen = [];

        public int Count => _seen.Count;

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Seen(context.Message);

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        private Task Seen(object message)
        {
            if (message is MemberCardLinkRequested r && r.RequestId == requestId)
            {
                _seen.Add(r.RequestId);
            }

            return Task.CompletedTask;
        }
    }
}
