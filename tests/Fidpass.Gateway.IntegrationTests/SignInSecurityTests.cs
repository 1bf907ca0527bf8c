using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.MerchantToken;
using Fidpass.MerchantToken.Mail;
using Fidpass.Testing;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>Sign-in links and web sessions (issue 19): who can read a link, how long a session lives.</summary>
public sealed class SignInSecurityTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_development_mailbox_is_not_routed_even_by_a_gateway_running_in_Development()
    {
        var (_, development) = await fixture.StartGatewayAsync(gateway => gateway.WithEnvironment("Development"));
        var email = $"mailbox-{Guid.NewGuid():N}@example.fr";
        using var signup = await development.PostAsJsonAsync("/api/v1/signup", new { name = "Boîte aux lettres", email }, Ct);
        Assert.Equal(HttpStatusCode.Created, signup.StatusCode);

        foreach (var path in new[] { "/dev/mailbox.json", "/dev/mailbox", "/DEV/mailbox.json" })
        {
            using var response = await development.GetAsync(new Uri(path, UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("fpd_", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        // The mail is there, on merchant-token's own port only (what ./fidpass up shows a developer on this machine).
        using var direct = new HttpClient { BaseAddress = fixture.MerchantToken.Address };
        var mails = await direct.GetFromJsonAsync<JsonElement>("/dev/mailbox.json", Ct);
        var mail = mails.EnumerateArray().Single(m => m.GetProperty("to").GetString() == email);
        var text = mail.GetProperty("textBody").GetString()!;
        fixture.Remember(text[(text.IndexOf("?token=", StringComparison.Ordinal) + 7)..].Split('\n')[0].Trim());
    }

    [Fact]
    public async Task Merchant_token_refuses_to_start_in_Production_without_SMTP_and_serves_no_mailbox_with_it()
    {
        await using (var withoutSmtp = new ServiceHost<MerchantTokenApi>()
            .WithInfrastructure(fixture.Postgres, fixture.RabbitMq)
            .WithEnvironment("Production")
            .With("Smtp:Host", "")
            .With("Marten:Daemon", "Disabled"))
        {
            var refused = Assert.ThrowsAny<Exception>(() => withoutSmtp.CreateClient());
            Assert.Contains(MailApi.MissingSmtpInProduction, Messages(refused), StringComparison.Ordinal);
        }

        await using var withSmtp = new ServiceHost<MerchantTokenApi>()
            .WithInfrastructure(fixture.Postgres, fixture.RabbitMq)
            .WithEnvironment("Production")
            .With("Smtp:Host", "127.0.0.1")
            .With("Marten:Daemon", "Disabled");
        using var client = withSmtp.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri("/dev/mailbox.json", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task Regenerating_the_dashboard_token_ends_every_session_opened_with_the_old_one_on_every_replica()
    {
        var (_, second) = await fixture.StartGatewayAsync();
        var replicas = new[] { fixture.Client, second };
        var merchant = await fixture.CreateMerchantAsync();
        var stolen = await OpenSessionAsync(merchant.DashboardToken);
        var own = await OpenSessionAsync(merchant.DashboardToken);
        foreach (var replica in replicas)
        {
            // Cached as valid by each replica.
            Assert.Equal(HttpStatusCode.OK, (await ListKeys(replica, merchant.Slug, stolen)).StatusCode);
        }

        using var regenerate = await Send(fixture.Client, HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/dashboard-token", own);
        Assert.Equal(HttpStatusCode.OK, regenerate.StatusCode);
        var fresh = fixture.Remember(JsonDocument.Parse(await regenerate.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("dashboardToken").GetString()!);

        foreach (var replica in replicas)
        {
            foreach (var session in new[] { stolen, own })
            {
                await Eventually.True(async () => (await ListKeys(replica, merchant.Slug, session)).StatusCode == HttpStatusCode.Unauthorized,
                    TimeSpan.FromSeconds(5), $"session opened with the old token refused by {replica.BaseAddress}");
            }
        }

        // The stolen session can no longer mint keys or regenerate the token; the new link opens a new session.
        using var mint = await Send(second, HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/integration-keys", stolen, new { name = "vol", scopes = new[] { "scan" } });
        Assert.Equal(HttpStatusCode.Unauthorized, mint.StatusCode);
        var renewed = await OpenSessionAsync(fresh);
        Assert.Equal(HttpStatusCode.OK, (await ListKeys(second, merchant.Slug, renewed)).StatusCode);
    }

    [Fact]
    public async Task The_merchant_sees_open_sessions_and_ends_them_all_everywhere()
    {
        var (_, second) = await fixture.StartGatewayAsync();
        var merchant = await fixture.CreateMerchantAsync();
        var other = await fixture.CreateMerchantAsync();
        var phone = await OpenSessionAsync(merchant.DashboardToken);
        var laptop = await OpenSessionAsync(merchant.DashboardToken);
        var untouched = await OpenSessionAsync(other.DashboardToken);
        Assert.Equal(HttpStatusCode.OK, (await ListKeys(second, merchant.Slug, phone)).StatusCode);

        using var listed = await Send(fixture.Client, HttpMethod.Get, $"/api/v1/merchants/{merchant.Slug}/sessions", laptop);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var sessions = JsonDocument.Parse(await listed.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, sessions.Count);
        Assert.Single(sessions, s => s.GetProperty("current").GetBoolean());
        Assert.All(sessions, s => Assert.True(s.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow));
        Assert.DoesNotContain("fps_", await listed.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // Another merchant's session is not ours to end, and an integration key cannot end anything.
        using var foreign = await Send(fixture.Client, HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/sessions", untouched);
        Assert.Equal(HttpStatusCode.Unauthorized, foreign.StatusCode);
        var key = await fixture.IssueKeyAsync(merchant, "scan");
        using var byKey = await Send(fixture.Client, HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/sessions", key.Key);
        Assert.Equal(HttpStatusCode.Forbidden, byKey.StatusCode);

        using var endAll = await Send(fixture.Client, HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/sessions", laptop);
        Assert.Equal(HttpStatusCode.OK, endAll.StatusCode);
        Assert.Equal(2, JsonDocument.Parse(await endAll.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("ended").GetInt32());
        foreach (var session in new[] { phone, laptop })
        {
            await Eventually.True(async () => (await ListKeys(second, merchant.Slug, session)).StatusCode == HttpStatusCode.Unauthorized,
                TimeSpan.FromSeconds(5), "ended session refused by the second replica");
        }

        Assert.Equal(HttpStatusCode.OK, (await ListKeys(second, other.Slug, untouched)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken)).StatusCode);
    }

    private async Task<string> OpenSessionAsync(string token)
    {
        using var opened = await fixture.Client.PostAsJsonAsync("/api/v1/sessions", new { token }, Ct);
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        return fixture.Remember(JsonDocument.Parse(await opened.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("session").GetString()!);
    }

    private static Task<HttpResponseMessage> ListKeys(HttpClient client, string slug, string bearer) =>
        Send(client, HttpMethod.Get, $"/api/v1/merchants/{slug}/integration-keys", bearer);

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string bearer, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await client.SendAsync(request, Ct);
    }

    private static string Messages(Exception ex)
    {
        var all = new System.Text.StringBuilder();
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            all.AppendLine(e.Message);
        }

        return all.ToString();
    }
}
