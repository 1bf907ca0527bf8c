using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fidpass.Gateway.Authentication;
using Fidpass.MerchantToken;
using Fidpass.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>Who a caller is, end to end: gateway → merchant-token, real PostgreSQL and RabbitMQ.</summary>
public sealed class AuthenticationTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Operator_creates_a_merchant_with_the_spec_shape_and_a_working_sign_in_link()
    {
        var slug = "cafe-" + Guid.NewGuid().ToString("N")[..8];
        using var response = await Admin(new { name = "Café Dupont", email = " Contact@Dupont.FR ", slug }, fixture.AdminKey);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(["id", "slug", "name", "email", "dashboardToken", "dashboardUrl"], body.EnumerateObject().Select(p => p.Name));
        var token = fixture.Remember(body.GetProperty("dashboardToken").GetString()!);
        Assert.Equal(slug, body.GetProperty("slug").GetString());
        Assert.Equal("contact@dupont.fr", body.GetProperty("email").GetString());
        Assert.StartsWith("fpd_", token, StringComparison.Ordinal);
        Assert.Equal(32, Base64UrlDecodedLength(token[4..]));
        Assert.EndsWith("/?token=" + token, body.GetProperty("dashboardUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(slug, token)).StatusCode);

        using var generated = await Admin(new { name = "Boulangerie Œuf & Fils", email = "b@example.fr" }, fixture.AdminKey);
        var generatedSlug = JsonDocument.Parse(await generated.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("slug").GetString();
        Assert.StartsWith("boulangerie-oeuf-fils", generatedSlug, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operator_route_refuses_a_taken_slug_bad_input_and_a_wrong_key()
    {
        var merchant = await fixture.CreateMerchantAsync();

        using var taken = await Admin(new { name = "Autre", email = "a@example.fr", slug = merchant.Slug }, fixture.AdminKey);
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal("slug_taken", await GatewayFixture.CodeOf(taken));

        foreach (var (body, code) in new (object, string)[]
        {
            (new { name = "X", email = "pas-un-email" }, "invalid_email"),
            (new { name = "", email = "a@example.fr" }, "invalid_name"),
            (new { name = "X", email = "a@example.fr", slug = "Pas Valide!" }, "invalid_slug"),
            (new { name = 42, email = "a@example.fr" }, "invalid_body"),
        })
        {
            using var bad = await Admin(body, fixture.AdminKey);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            Assert.Equal(code, await GatewayFixture.CodeOf(bad));
        }

        using var wrongKey = await Admin(new { name = "X", email = "a@example.fr" }, "not-the-operator-key");
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        using var noKey = await Admin(new { name = "X", email = "a@example.fr" }, null);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
    }

    [Fact]
    public async Task Operator_route_does_not_exist_when_no_operator_key_is_configured()
    {
        await using var withoutKey = new ServiceHost<MerchantTokenApi>()
            .WithInfrastructure(fixture.Postgres, fixture.RabbitMq)
            .With("FIDPASS_ADMIN_KEY", "")
            .With("Marten:Daemon", "Disabled");
        using var client = withoutKey.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/merchants") { Content = JsonContent.Create(new { name = "X", email = "a@example.fr" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "");

        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_token_works_in_header_and_bearer_and_nothing_else_gets_in()
    {
        var merchant = await fixture.CreateMerchantAsync();

        foreach (var place in new[] { "header", "bearer" })
        {
            Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken, place)).StatusCode);
        }

        // ?token= is for the historical compatibility routes only: on v1 a secret in the URL is no credential.
        using var inQuery = await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken, "query");
        Assert.Equal(HttpStatusCode.Unauthorized, inQuery.StatusCode);
        Assert.Equal("unauthenticated", await GatewayFixture.CodeOf(inQuery));

        var forged = "fpd_" + new string('A', 43);
        foreach (var credential in new[] { null, "", forged, merchant.DashboardToken + "x", new string('z', 5000) })
        {
            using var refused = await fixture.ListKeysAsync(merchant.Slug, credential);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("unauthenticated", await GatewayFixture.CodeOf(refused));
        }

        var tk = Uri.EscapeDataString(merchant.DashboardToken);
        using var repeated = await Client.GetAsync(new Uri($"/api/v1/merchants/{merchant.Slug}/integration-keys?token={tk}&token={tk}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, repeated.StatusCode);
        using var repeatedCompat = await Client.GetAsync(new Uri($"/api/businesses/{merchant.Slug}/integration/lookup?barcode=x&token={tk}&token=other", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, repeatedCompat.StatusCode);
        Assert.Equal("{\"error\":\"Jeton invalide ou manquant.\"}", await repeatedCompat.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Compatibility_routes_answer_unknown_slug_first_then_authentication_with_their_historical_bodies()
    {
        var merchant = await fixture.CreateMerchantAsync();

        using var unknown = await Client.GetAsync(new Uri($"/api/businesses/nobody-{Guid.NewGuid():N}/integration/lookup?barcode=x&token={merchant.DashboardToken}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("{\"error\":\"Commerce introuvable.\",\"code\":\"BUSINESS_NOT_FOUND\"}", await unknown.Content.ReadAsStringAsync(Ct));

        using var noToken = await Client.GetAsync(new Uri($"/api/businesses/{merchant.Slug}/integration/lookup?barcode=x", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("{\"error\":\"Jeton invalide ou manquant.\"}", await noToken.Content.ReadAsStringAsync(Ct));

        using var unknownEnrolment = await Client.PostAsJsonAsync($"/api/businesses/nobody-{Guid.NewGuid():N}/members", new { name = "A", email = "a@example.fr" }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknownEnrolment.StatusCode);
        Assert.Equal("BUSINESS_NOT_FOUND", await GatewayFixture.CodeOf(unknownEnrolment));
    }

    [Fact]
    public async Task A_credential_of_merchant_A_on_merchant_B_is_treated_as_unknown_and_leaks_nothing_of_B()
    {
        var a = await fixture.CreateMerchantAsync("Merchant A " + Guid.NewGuid().ToString("N")[..6]);
        var b = await fixture.CreateMerchantAsync("Merchant B " + Guid.NewGuid().ToString("N")[..6]);
        var aKey = await fixture.IssueKeyAsync(a, "lookup", "scan");
        var bKey = await fixture.IssueKeyAsync(b, "scan");
        using var aSession = await OpenSession(a.DashboardToken);
        var aSessionSecret = fixture.Remember(JsonDocument.Parse(await aSession.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("session").GetString()!);

        var attempts = new List<HttpResponseMessage>();
        foreach (var credential in new[] { a.DashboardToken, aKey.Key, aSessionSecret })
        {
            attempts.Add(await fixture.ListKeysAsync(b.Slug, credential, "bearer"));
            attempts.Add(await Send(HttpMethod.Post, $"/api/v1/merchants/{b.Slug}/integration-keys", credential, new { name = "vol", scopes = new[] { "scan" } }));
            attempts.Add(await Send(HttpMethod.Delete, $"/api/v1/merchants/{b.Slug}/integration-keys/{bKey.Id}", credential));
            attempts.Add(await Send(HttpMethod.Post, $"/api/v1/merchants/{b.Slug}/dashboard-token", credential));
            attempts.Add(await Send(HttpMethod.Get, $"/api/v1/merchants/{b.Slug}/program", credential));
            attempts.Add(await Send(HttpMethod.Get, $"/api/v1/merchants/{b.Slug}/terminal/readers", credential));
            attempts.Add(await Send(HttpMethod.Get, $"/api/v1/merchants/{b.Slug}/cash/machines", credential));
            attempts.Add(await Send(HttpMethod.Get, $"/api/businesses/{b.Slug}/integration/lookup?barcode=x", credential));
            attempts.Add(await Send(HttpMethod.Post, $"/api/businesses/{b.Slug}/members/{Guid.NewGuid()}/points", credential, new { points = 5 }));
        }

        foreach (var response in attempts)
        {
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound, $"{response.RequestMessage?.RequestUri?.AbsolutePath}: {response.StatusCode}");
            Assert.DoesNotContain(b.Id.ToString(), body, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(b.Name, body, StringComparison.Ordinal);
            Assert.DoesNotContain(bKey.Name, body, StringComparison.Ordinal);
            response.Dispose();
        }

        // B's key still works for B: nothing was revoked or rotated by A.
        using var stillThere = await fixture.ListKeysAsync(b.Slug, b.DashboardToken);
        Assert.Contains(bKey.Id.ToString(), await stillThere.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Integration_keys_are_shown_once_scoped_and_cannot_manage_credentials()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, "scan", "lookup", "scan");

        Assert.StartsWith("fpk_", key.Key, StringComparison.Ordinal);
        Assert.Equal(["lookup", "scan"], key.Scopes);
        using var list = await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken);
        var listed = await list.Content.ReadAsStringAsync(Ct);
        Assert.Contains(key.Id.ToString(), listed, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Key, listed, StringComparison.Ordinal);
        Assert.DoesNotContain("\"key\"", listed, StringComparison.Ordinal);

        using var unknownScope = await Send(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/integration-keys", merchant.DashboardToken, new { name = "x", scopes = new[] { "admin" } });
        Assert.Equal(HttpStatusCode.BadRequest, unknownScope.StatusCode);
        Assert.Equal("invalid_scope", await GatewayFixture.CodeOf(unknownScope));

        // A key authenticates (it is not a 401) but may not touch credentials: 403.
        foreach (var response in new[]
        {
            await fixture.ListKeysAsync(merchant.Slug, key.Key, "bearer"),
            await Send(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/integration-keys", key.Key, new { name = "x", scopes = new[] { "scan" } }),
            await Send(HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/integration-keys/{key.Id}", key.Key),
            await Send(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/dashboard-token", key.Key),
        })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("forbidden", await GatewayFixture.CodeOf(response));
            response.Dispose();
        }
    }

    [Fact]
    public async Task A_revoked_key_fails_through_the_gateway_within_five_seconds()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, "lookup");
        // Authenticated (403 from the service), and now cached by the gateway for ~30 s.
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.ListKeysAsync(merchant.Slug, key.Key, "bearer")).StatusCode);

        using var revoke = await Send(HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/integration-keys/{key.Id}", merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var delay = await TimeUntilRefused(merchant.Slug, key.Key);

        Report($"Integration key revocation effective through the gateway after {delay.TotalMilliseconds:F0} ms");
        Assert.True(delay < TimeSpan.FromSeconds(5), $"revocation took {delay}");
        using var again = await Send(HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/integration-keys/{key.Id}", merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task A_revocation_reaches_every_gateway_replica()
    {
        var (_, second) = await fixture.StartGatewayAsync();
        var merchant = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, "scan");
        var replicas = new[] { Client, second };
        foreach (var replica in replicas)
        {
            // Each replica has the key cached as valid (403 = authenticated, not allowed to manage keys).
            Assert.Equal(HttpStatusCode.Forbidden, (await ListKeys(replica, merchant.Slug, key.Key)).StatusCode);
        }

        using var revoke = await Send(HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/integration-keys/{key.Id}", merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        foreach (var replica in replicas)
        {
            await Eventually.True(async () => (await ListKeys(replica, merchant.Slug, key.Key)).StatusCode == HttpStatusCode.Unauthorized,
                TimeSpan.FromSeconds(5), $"revoked key refused by {replica.BaseAddress}");
        }
    }

    [Fact]
    public async Task A_credential_in_use_costs_one_introspection_at_a_time_and_is_renewed_before_it_expires()
    {
        var calls = new IntrospectionCalls();
        var (_, replica) = await fixture.StartGatewayAsync(gateway => gateway
            .With("Gateway:Introspection:CacheSeconds", "4")
            .WithServices(services => services.AddHttpClient(CredentialIntrospector.HttpClientName).AddHttpMessageHandler(() => new CountingHandler(calls))));
        var merchant = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, "lookup");

        // 40 requests arrive together with a credential this replica has never seen: one call answers them all.
        var first = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => ListKeys(replica, merchant.Slug, key.Key)));
        Assert.All(first, answer => Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode)); // authenticated, not allowed to manage keys
        Assert.Equal(1, calls.Introspections);

        // In the last fifth of its 4 s the answer still serves, and one call renews it in the background…
        await Task.Delay(TimeSpan.FromSeconds(3.4), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, (await ListKeys(replica, merchant.Slug, key.Key)).StatusCode);
        await Eventually.True(() => Task.FromResult(calls.Introspections == 2), TimeSpan.FromSeconds(2), "background renewal");

        // …so after the first answer's expiry the credential is still known, with no further call.
        await Task.Delay(TimeSpan.FromSeconds(1.2), Ct);
        var later = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ListKeys(replica, merchant.Slug, key.Key)));
        Assert.All(later, answer => Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode));
        Assert.Equal(2, calls.Introspections);
    }

    private sealed class IntrospectionCalls
    {
        private int _count;

        public int Introspections => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }

    /// <summary>Counts the gateway's real calls to merchant-token's introspection route.</summary>
    private sealed class CountingHandler(IntrospectionCalls calls) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri?.AbsolutePath == "/internal/introspect")
            {
                calls.Add();
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    private static async Task<HttpResponseMessage> ListKeys(HttpClient client, string slug, string bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{slug}/integration-keys");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task A_regenerated_dashboard_token_replaces_the_old_one_within_five_seconds()
    {
        var merchant = await fixture.CreateMerchantAsync();
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken)).StatusCode);

        using var regenerate = await Send(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/dashboard-token", merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.OK, regenerate.StatusCode);
        var fresh = fixture.Remember(JsonDocument.Parse(await regenerate.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("dashboardToken").GetString()!);
        var delay = await TimeUntilRefused(merchant.Slug, merchant.DashboardToken);

        Report($"Dashboard token rotation effective through the gateway after {delay.TotalMilliseconds:F0} ms");
        Assert.True(delay < TimeSpan.FromSeconds(5), $"rotation took {delay}");
        Assert.NotEqual(merchant.DashboardToken, fresh);
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, fresh)).StatusCode);
    }

    [Fact]
    public async Task A_web_session_is_opened_with_the_link_token_and_ended_by_its_holder()
    {
        var merchant = await fixture.CreateMerchantAsync();

        using var bad = await OpenSession("fpd_" + new string('B', 43));
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal("invalid_token", await GatewayFixture.CodeOf(bad));

        using var opened = await OpenSession(merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        var body = JsonDocument.Parse(await opened.Content.ReadAsStringAsync(Ct)).RootElement;
        var session = fixture.Remember(body.GetProperty("session").GetString()!);
        Assert.StartsWith("fps_", session, StringComparison.Ordinal);
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(merchant.Slug, body.GetProperty("merchant").GetProperty("slug").GetString());
        Assert.Equal(merchant.Id, body.GetProperty("merchant").GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, session, "bearer")).StatusCode);

        // The dashboard token is not a session: it cannot "end the current session".
        using var notASession = await Send(HttpMethod.Delete, "/api/v1/sessions/current", merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.Unauthorized, notASession.StatusCode);

        using var end = await Send(HttpMethod.Delete, "/api/v1/sessions/current", session);
        Assert.Equal(HttpStatusCode.NoContent, end.StatusCode);
        var delay = await TimeUntilRefused(merchant.Slug, session);
        Report($"Session end effective through the gateway after {delay.TotalMilliseconds:F0} ms");
        Assert.True(delay < TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken)).StatusCode);
    }

    [Fact]
    public async Task Identity_headers_sent_by_a_client_are_ignored()
    {
        var a = await fixture.CreateMerchantAsync();
        var b = await fixture.CreateMerchantAsync();

        // No credential, B's identity spoofed: still unauthenticated.
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{b.Slug}/integration-keys");
        Spoof(spoofed, b.Id, b.Slug, "dashboard_token");
        using var refused = await Client.SendAsync(spoofed, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // A's key with spoofed "dashboard token" headers: still only a key (403 on credential management).
        var aKey = await fixture.IssueKeyAsync(a, "scan");
        using var escalate = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{a.Slug}/integration-keys");
        escalate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", aKey.Key);
        Spoof(escalate, a.Id, a.Slug, "dashboard_token");
        using var forbidden = await Client.SendAsync(escalate, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        // A's dashboard token pretending to be a session of some id: cannot end anything.
        using var fakeSession = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/sessions/current");
        fakeSession.Headers.Add("X-Dashboard-Token", a.DashboardToken);
        Spoof(fakeSession, a.Id, a.Slug, "session");
        fakeSession.Headers.Add("x-fidpass-credential-id", Guid.NewGuid().ToString());
        using var notEnded = await Client.SendAsync(fakeSession, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, notEnded.StatusCode);
    }

    [Fact]
    public async Task Too_many_requests_with_one_credential_get_429_with_retry_after()
    {
        var merchant = await fixture.CreateMerchantAsync();
        HttpResponseMessage? limited = null;
        // Up to three windows: a slow machine may cross a window boundary before the limit is reached.
        for (var i = 0; i < GatewayFixture.CredentialRateLimit * 3 && limited is null; i++)
        {
            var response = await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After in seconds");
        Assert.Equal("rate_limited", await GatewayFixture.CodeOf(limited));

        // Another merchant's credential is not affected.
        var other = await fixture.CreateMerchantAsync();
        Assert.Equal(HttpStatusCode.OK, (await fixture.ListKeysAsync(other.Slug, other.DashboardToken)).StatusCode);
        limited.Dispose();
    }

    [Fact]
    public async Task Self_sign_up_mails_a_sign_in_link_whose_token_opens_a_session()
    {
        var email = $"signup-{Guid.NewGuid():N}@example.fr";
        using var signup = await Client.PostAsJsonAsync("/api/v1/signup", new { name = "Le Fournil d'Élise", email }, Ct);
        Assert.Equal(HttpStatusCode.Created, signup.StatusCode);
        var body = await signup.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("fpd_", body, StringComparison.Ordinal);
        Assert.StartsWith("le-fournil-d-elise", JsonDocument.Parse(body).RootElement.GetProperty("slug").GetString(), StringComparison.Ordinal);

        // The development mailbox is on merchant-token only: the gateway never routes /dev.
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(new Uri("/dev/mailbox.json", UriKind.Relative), Ct)).StatusCode);
        using var direct = new HttpClient { BaseAddress = fixture.MerchantToken.Address };
        var mails = await direct.GetFromJsonAsync<JsonElement>("/dev/mailbox.json", Ct);
        var mail = mails.EnumerateArray().Single(m => m.GetProperty("to").GetString() == email);
        var text = mail.GetProperty("textBody").GetString()!;
        var token = fixture.Remember(text[(text.IndexOf("?token=", StringComparison.Ordinal) + 7)..].Split('\n')[0].Trim());
        Assert.StartsWith("fpd_", token, StringComparison.Ordinal);
        var page = await direct.GetStringAsync(new Uri("/dev/mailbox", UriKind.Relative), Ct);
        Assert.Contains("Boîte mail de développement", page, StringComparison.Ordinal);

        using var session = await OpenSession(Uri.UnescapeDataString(token));
        Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        fixture.Remember(JsonDocument.Parse(await session.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("session").GetString()!);
    }

    [Fact]
    public async Task Internal_routes_are_never_forwarded_and_answers_carry_security_headers()
    {
        var merchant = await fixture.CreateMerchantAsync();

        using var lookup = await Client.GetAsync(new Uri($"/internal/merchants/{merchant.Slug}", UriKind.Relative), Ct);
        using var introspect = await Client.PostAsJsonAsync("/internal/introspect", new { credential = merchant.DashboardToken }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, introspect.StatusCode);
        Assert.DoesNotContain(merchant.Id.ToString(), await introspect.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var ok = await fixture.ListKeysAsync(merchant.Slug, merchant.DashboardToken);
        Assert.Equal("nosniff", ok.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", ok.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", ok.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task Browsers_may_call_from_allowed_origins_only()
    {
        foreach (var (origin, allowed) in new[] { (GatewayFixture.AllowedOrigin, true), ("https://evil.example", false) })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/sessions");
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
            using var response = await Client.SendAsync(preflight, Ct);

            Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
        }
    }

    [Fact]
    public async Task Oversized_bodies_are_refused_before_reaching_a_service()
    {
        using var content = new StringContent("{\"name\":\"" + new string('x', 2 * 1024 * 1024) + "\",\"email\":\"a@example.fr\"}", Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync(new Uri("/api/v1/signup", UriKind.Relative), content, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("payload_too_large", await GatewayFixture.CodeOf(response));
    }

    [Fact]
    public async Task The_gateway_serves_the_aggregated_reference_offline()
    {
        var document = JsonDocument.Parse(await Client.GetStringAsync(new Uri("/docs/merchant-token.json", UriKind.Relative), Ct)).RootElement;
        var paths = document.GetProperty("paths");
        Assert.Equal("Créer une clé d'intégration",
            paths.GetProperty("/api/v1/merchants/{slug}/integration-keys").GetProperty("post").GetProperty("summary").GetString());
        Assert.True(paths.TryGetProperty("/api/v1/admin/merchants", out _));
        Assert.DoesNotContain(paths.EnumerateObject(), p => p.Name.StartsWith("/internal", StringComparison.Ordinal) || p.Name.StartsWith("/dev", StringComparison.Ordinal));

        // Scalar's page, naming the routed services' documents; what it loads is checked in a browser (ApiReferenceTests).
        using var reference = await Client.GetAsync(new Uri("/docs", UriKind.Relative), Ct);
        var page = await reference.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        Assert.Contains("merchant-token", page, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", reference.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(new Uri("/docs/nope.json", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task No_log_line_or_span_carries_a_token_key_or_session()
    {
        // A full round of every credential in every place, including refusals and revocations.
        var merchant = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, "scan");
        using var opened = await OpenSession(merchant.DashboardToken);
        var session = fixture.Remember(JsonDocument.Parse(await opened.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("session").GetString()!);
        foreach (var place in new[] { "header", "query", "bearer" })
        {
            foreach (var credential in new[] { merchant.DashboardToken, key.Key, session })
            {
                (await fixture.ListKeysAsync(merchant.Slug, credential, place)).Dispose();
                (await Send(HttpMethod.Get, $"/api/businesses/{merchant.Slug}/integration/lookup?barcode=x&token={Uri.EscapeDataString(credential)}", null)).Dispose();
            }
        }

        (await Send(HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/integration-keys/{key.Id}", merchant.DashboardToken)).Dispose();
        await TimeUntilRefused(merchant.Slug, key.Key);
        (await Send(HttpMethod.Delete, "/api/v1/sessions/current", session)).Dispose();
        (await Send(HttpMethod.Post, $"/api/v1/merchants/{merchant.Slug}/dashboard-token", merchant.DashboardToken)).Dispose();

        fixture.AssertNoSecretLogged();
    }

    private async Task<TimeSpan> TimeUntilRefused(string slug, string credential)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            using var response = await fixture.ListKeysAsync(slug, credential, "bearer");
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return watch.Elapsed;
            }

            if (watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"still {response.StatusCode} after {watch.Elapsed}");
            }

            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Measured figures go to the test output (shown by `dotnet test --logger "console;verbosity=detailed"`).</summary>
    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    private static void Spoof(HttpRequestMessage request, Guid merchantId, string slug, string kind)
    {
        request.Headers.Add("X-Fidpass-Merchant-Id", merchantId.ToString());
        request.Headers.Add("X-Fidpass-Merchant-Slug", slug);
        request.Headers.Add("X-Fidpass-Credential-Kind", kind);
        request.Headers.Add("X-Fidpass-Scopes", "lookup scan program members terminal cash");
    }

    private async Task<HttpResponseMessage> Admin(object body, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/merchants") { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await Client.SendAsync(request, Ct);
    }

    private Task<HttpResponseMessage> OpenSession(string token) => Client.PostAsJsonAsync("/api/v1/sessions", new { token }, Ct);

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, string? bearer, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await Client.SendAsync(request, Ct);
    }

    private static int Base64UrlDecodedLength(string value) =>
        Convert.FromBase64String(value.Replace('-', '+').Replace('_', '/') + new string('=', (4 - (value.Length % 4)) % 4)).Length;
}
