using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Testing;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>Where a till puts its credential.</summary>
public enum Place
{
    Header,
    Query,
    Bearer,
}

/// <summary>A merchant as the route families need it: its token and one enrolled member.</summary>
public sealed record Shop(CreatedMerchant Merchant, Guid MemberId)
{
    public string Slug => Merchant.Slug;
}

/// <summary>
/// One representative route of a family, the scope a key needs on it (<c>null</c>: no key may use
/// it) and the stable code the owning service answers a key without that scope with.
/// </summary>
public sealed record RouteFamily(string Name, bool Compat, string? Scope, string ForbiddenCode, Func<Shop, HttpRequestMessage> Make)
{
    public static readonly IReadOnlyDictionary<string, RouteFamily> All = new[]
    {
        new RouteFamily("compat-lookup", true, "lookup", "FORBIDDEN_SCOPE",
            s => new HttpRequestMessage(HttpMethod.Get, $"/api/businesses/{s.Slug}/integration/lookup?barcode={s.MemberId}")),
        new RouteFamily("compat-scan", true, "scan", "FORBIDDEN_SCOPE",
            s => Post($"/api/businesses/{s.Slug}/integration/scan", new { barcode = s.MemberId.ToString(), points = 1 })),
        new RouteFamily("compat-member-points", true, "scan", "FORBIDDEN_SCOPE",
            s => Post($"/api/businesses/{s.Slug}/members/{s.MemberId}/points", new { points = 1 })),
        new RouteFamily("loyalty-v1-program", false, "program", "forbidden_scope",
            s => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{s.Slug}/program")),
        new RouteFamily("loyalty-v1-member", false, "members", "forbidden_scope",
            s => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{s.Slug}/members/{s.MemberId}")),
        new RouteFamily("terminal", false, "terminal", "scope_missing",
            s => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{s.Slug}/terminal/readers")),
        new RouteFamily("cash", false, "cash", "scope_missing",
            s => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{s.Slug}/cash/machines")),
        new RouteFamily("merchant-token", false, null, "forbidden",
            s => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{s.Slug}/integration-keys")),
    }.ToDictionary(f => f.Name, StringComparer.Ordinal);

    public static TheoryData<string> Names => [.. All.Keys];

    /// <summary>A scope that is not this family's, so a key holding only it authenticates but may not pass.</summary>
    public string OtherScope => Scope == "lookup" ? "scan" : "lookup";

    /// <summary>Where a credential is taken: <c>?token=</c> only on the historical compatibility routes.</summary>
    public Place[] Places => Compat ? Enum.GetValues<Place>() : [Place.Header, Place.Bearer];

    public override string ToString() => Name;

    private static HttpRequestMessage Post(string path, object body) => new(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
}

/// <summary>
/// Issue #3's acceptance on every route family (compatibility integration, v1 loyalty, terminal,
/// cash, merchant-token's own routes), through the real gateway with every service behind it:
/// valid, unknown, revoked and rotated tokens and keys, another merchant's credentials and ids,
/// scope violations, each answered in its family's body style.
/// </summary>
public sealed class RouteFamilyTests(PaymentsFixture fixture) : IClassFixture<PaymentsFixture>
{
    private static readonly TimeSpan WithinSeconds = TimeSpan.FromSeconds(5);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(RouteFamily.Names), MemberType = typeof(RouteFamily))]
    public async Task A_dashboard_token_in_any_place_and_a_key_with_the_scope_get_through_a_key_without_it_gets_403(string name)
    {
        var family = RouteFamily.All[name];
        var shop = await OpenShopAsync();

        foreach (var place in family.Places)
        {
            using var response = await SendAsync(family, shop, shop.Merchant.DashboardToken, place);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}, token in {place}: {response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        }

        if (!family.Compat)
        {
            using var inQuery = await SendAsync(family, shop, shop.Merchant.DashboardToken, Place.Query);
            await AssertUnauthenticated(family, inQuery, $"{name}, token in the query of a v1 route");
        }

        var allowed = await fixture.IssueKeyAsync(shop.Merchant, family.Scope ?? "lookup");
        using var withScope = await SendAsync(family, shop, allowed.Key, Place.Bearer);
        if (family.Scope is null)
        {
            // No scope opens credential management to a key: authenticated, then refused.
            await AssertForbidden(family, withScope);
        }
        else
        {
            Assert.True(withScope.StatusCode == HttpStatusCode.OK, $"{name}, key with « {family.Scope} »: {withScope.StatusCode}");
        }

        var other = await fixture.IssueKeyAsync(shop.Merchant, family.OtherScope);
        using var withoutScope = await SendAsync(family, shop, other.Key, Place.Bearer);
        await AssertForbidden(family, withoutScope);
    }

    [Theory]
    [MemberData(nameof(RouteFamily.Names), MemberType = typeof(RouteFamily))]
    public async Task Missing_unknown_or_garbage_credentials_get_401_in_the_family_body_and_change_nothing(string name)
    {
        var family = RouteFamily.All[name];
        var shop = await OpenShopAsync();
        var token = shop.Merchant.DashboardToken;

        var refused = new List<(string What, HttpResponseMessage Response)>
        {
            ("no credential", await SendAsync(family, shop, null, Place.Header)),
            ("repeated ?token=", await SendRawAsync(family, shop, r => AppendQuery(r, $"token={token}&token={token}"))),
            ("repeated header", await SendRawAsync(family, shop, r => r.Headers.TryAddWithoutValidation("X-Dashboard-Token", [token, token]))),
            ("Basic scheme", await SendRawAsync(family, shop, r => r.Headers.TryAddWithoutValidation("Authorization", "Basic " + token))),
        };
        foreach (var (what, garbage) in new[]
        {
            ("forged token", "fpd_" + new string('A', 43)),
            ("forged key", "fpk_" + new string('A', 43)),
            ("forged session", "fps_" + new string('A', 43)),
            ("token with a character more", token + "x"),
            ("token cut short", token[..^1]),
            ("garbage", "'; DROP TABLE credentials; --"),
            ("oversized", new string('z', 5000)),
        })
        {
            foreach (var place in Enum.GetValues<Place>())
            {
                refused.Add(($"{what} in {place}", await SendAsync(family, shop, garbage, place)));
            }
        }

        foreach (var (what, response) in refused)
        {
            await AssertUnauthenticated(family, response, $"{name}, {what}");
            response.Dispose();
        }

        Assert.Equal(0, await PointsAsync(shop));
    }

    [Theory]
    [MemberData(nameof(RouteFamily.Names), MemberType = typeof(RouteFamily))]
    public async Task A_revoked_key_is_refused_within_five_seconds(string name)
    {
        var family = RouteFamily.All[name];
        var shop = await OpenShopAsync();
        var key = await fixture.IssueKeyAsync(shop.Merchant, family.Scope ?? "lookup");
        var expected = family.Scope is null ? HttpStatusCode.Forbidden : HttpStatusCode.OK;
        // Used once first, so the gateway has it cached as valid when the revocation comes.
        using (var before = await SendAsync(family, shop, key.Key, Place.Bearer))
        {
            Assert.Equal(expected, before.StatusCode);
        }

        using var revoke = await ManageAsync(HttpMethod.Delete, $"/api/v1/merchants/{shop.Slug}/integration-keys/{key.Id}", shop.Merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        var (delay, refused) = await UntilUnauthenticatedAsync(family, shop, key.Key, Place.Bearer);
        Report($"{name}: revoked key refused after {delay.TotalMilliseconds:F0} ms");
        Assert.True(delay < WithinSeconds, $"{name}: revocation took {delay}");
        await AssertUnauthenticated(family, refused, name);
        refused.Dispose();
    }

    [Theory]
    [MemberData(nameof(RouteFamily.Names), MemberType = typeof(RouteFamily))]
    public async Task A_rotated_dashboard_token_is_refused_within_five_seconds_and_the_new_one_works(string name)
    {
        var family = RouteFamily.All[name];
        var shop = await OpenShopAsync();
        var old = shop.Merchant.DashboardToken;
        foreach (var place in new[] { Place.Header, family.Places[^1] })
        {
            using var before = await SendAsync(family, shop, old, place);
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var rotate = await ManageAsync(HttpMethod.Post, $"/api/v1/merchants/{shop.Slug}/dashboard-token", old);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var fresh = fixture.Remember((await rotate.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("dashboardToken").GetString()!);

        foreach (var place in new[] { Place.Header, family.Places[^1] })
        {
            var (delay, refused) = await UntilUnauthenticatedAsync(family, shop, old, place);
            Report($"{name}: old dashboard token in {place} refused after {delay.TotalMilliseconds:F0} ms");
            Assert.True(delay < WithinSeconds, $"{name}: rotation took {delay}");
            await AssertUnauthenticated(family, refused, name);
            refused.Dispose();

            using var renewed = await SendAsync(family, shop, fresh, place);
            Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        }
    }

    [Theory]
    [MemberData(nameof(RouteFamily.Names), MemberType = typeof(RouteFamily))]
    public async Task Credentials_of_merchant_A_on_merchant_B_are_unknown_there_and_leak_nothing_of_B(string name)
    {
        var family = RouteFamily.All[name];
        var a = await OpenShopAsync();
        var b = await OpenShopAsync();
        var aKey = await fixture.IssueKeyAsync(a.Merchant, "lookup", "scan", "program", "members", "terminal", "cash");
        var aSession = await OpenSessionAsync(a.Merchant.DashboardToken);

        foreach (var (what, credential) in new[] { ("A's dashboard token", a.Merchant.DashboardToken), ("A's key", aKey.Key), ("A's session", aSession) })
        {
            foreach (var place in Enum.GetValues<Place>())
            {
                // B's slug with B's member: everything of B except the credential.
                using var response = await SendAsync(family, b, credential, place);
                var body = await response.Content.ReadAsStringAsync(Ct);
                Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound, $"{name}, {what} in {place} on B: {response.StatusCode} {body}");
                AssertNothingOf(b, body);
                if (family.Compat && response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    Assert.Equal("{\"error\":\"Jeton invalide ou manquant.\"}", body);
                }
            }
        }

        Assert.Equal(0, await PointsAsync(b));
        using var bStillIn = await SendAsync(family, b, b.Merchant.DashboardToken, Place.Header);
        Assert.Equal(HttpStatusCode.OK, bStillIn.StatusCode);
    }

    [Fact]
    public async Task Ids_of_merchant_B_under_merchant_A_s_own_slug_are_not_found_and_B_is_untouched()
    {
        var a = await OpenShopAsync();
        var b = await OpenShopAsync();
        var aKey = await fixture.IssueKeyAsync(a.Merchant, "lookup", "scan", "program", "members", "terminal", "cash");
        var bKey = await fixture.IssueKeyAsync(b.Merchant, "lookup");
        var bMachine = await CreateMachineAsync(b);
        var bReader = await ReaderOfAsync(b);
        var aToken = a.Merchant.DashboardToken;

        var attempts = new (string What, string? Code, Func<HttpRequestMessage> Make)[]
        {
            ("compat lookup of B's member", "MEMBER_NOT_FOUND", () => new(HttpMethod.Get, $"/api/businesses/{a.Slug}/integration/lookup?barcode={b.MemberId}")),
            ("compat scan of B's member", "MEMBER_NOT_FOUND", () => Json(HttpMethod.Post, $"/api/businesses/{a.Slug}/integration/scan", new { barcode = b.MemberId.ToString(), points = 5 })),
            ("compat points to B's member", "MEMBER_NOT_FOUND", () => Json(HttpMethod.Post, $"/api/businesses/{a.Slug}/members/{b.MemberId}/points", new { points = 5 })),
            ("v1 detail of B's member", null, () => new(HttpMethod.Get, $"/api/v1/merchants/{a.Slug}/members/{b.MemberId}")),
            ("v1 scan of B's member", null, () => Json(HttpMethod.Post, $"/api/v1/merchants/{a.Slug}/scans", new { barcode = b.MemberId.ToString(), points = 5 })),
            ("B's cash machine", "machine_not_found", () => new(HttpMethod.Get, $"/api/v1/merchants/{a.Slug}/cash/machines/{bMachine}")),
            ("deleting B's cash machine", "machine_not_found", () => new(HttpMethod.Delete, $"/api/v1/merchants/{a.Slug}/cash/machines/{bMachine}")),
            ("renaming B's reader", "reader_not_found", () => Json(HttpMethod.Patch, $"/api/v1/merchants/{a.Slug}/terminal/readers/{bReader}", new { label = "volé" })),
        };

        foreach (var credential in new[] { aToken, aKey.Key })
        {
            foreach (var (what, code, make) in attempts)
            {
                using var request = make();
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
                using var response = await fixture.Client.SendAsync(request, Ct);
                var body = await response.Content.ReadAsStringAsync(Ct);
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{what}: {response.StatusCode} {body}");
                if (code is not null)
                {
                    Assert.Equal(code, await GatewayFixture.CodeOf(response));
                }

                AssertNothingOf(b, body);
            }
        }

        // Revoking B's key is for the owner of A's slug only in name: B's key id is unknown there.
        using var revoke = await ManageAsync(HttpMethod.Delete, $"/api/v1/merchants/{a.Slug}/integration-keys/{bKey.Id}", aToken);
        Assert.Equal(HttpStatusCode.NotFound, revoke.StatusCode);
        Assert.Equal("key_not_found", await GatewayFixture.CodeOf(revoke));

        Assert.Equal(0, await PointsAsync(b));
        using var bKeys = await ManageAsync(HttpMethod.Get, $"/api/v1/merchants/{b.Slug}/integration-keys", b.Merchant.DashboardToken);
        Assert.Contains(bKey.Id.ToString(), await bKeys.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using var bMachineThere = await ManageAsync(HttpMethod.Get, $"/api/v1/merchants/{b.Slug}/cash/machines/{bMachine}", b.Merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.OK, bMachineThere.StatusCode);
        using var bReaders = await ManageAsync(HttpMethod.Get, $"/api/v1/merchants/{b.Slug}/terminal/readers", b.Merchant.DashboardToken);
        Assert.DoesNotContain("volé", await bReaders.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_log_line_or_span_of_this_traffic_carries_a_token_key_or_session()
    {
        // Every family with every credential in every place, refusals, a revocation and a rotation;
        // the capture also holds whatever the other tests of this class sent before.
        var shop = await OpenShopAsync();
        var key = await fixture.IssueKeyAsync(shop.Merchant, "lookup", "scan", "program", "members", "terminal", "cash");
        var session = await OpenSessionAsync(shop.Merchant.DashboardToken);
        foreach (var family in RouteFamily.All.Values)
        {
            foreach (var credential in new[] { shop.Merchant.DashboardToken, key.Key, session, shop.Merchant.DashboardToken + "x" })
            {
                foreach (var place in Enum.GetValues<Place>())
                {
                    (await SendAsync(family, shop, credential, place)).Dispose();
                }
            }
        }

        using (await ManageAsync(HttpMethod.Delete, $"/api/v1/merchants/{shop.Slug}/integration-keys/{key.Id}", shop.Merchant.DashboardToken))
        {
        }

        var compat = RouteFamily.All["compat-lookup"];
        (await UntilUnauthenticatedAsync(compat, shop, key.Key, Place.Query)).Refused.Dispose();
        using var rotate = await ManageAsync(HttpMethod.Post, $"/api/v1/merchants/{shop.Slug}/dashboard-token", shop.Merchant.DashboardToken);
        var fresh = fixture.Remember((await rotate.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("dashboardToken").GetString()!);
        (await UntilUnauthenticatedAsync(compat, shop, shop.Merchant.DashboardToken, Place.Query)).Refused.Dispose();
        (await SendAsync(compat, shop, fresh, Place.Query)).Dispose();

        fixture.AssertNoSecretLogged();
    }

    private async Task<Shop> OpenShopAsync()
    {
        var merchant = await fixture.CreateMerchantAsync();
        using var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members",
            new { name = "Client " + merchant.Name, email = $"client.{Guid.NewGuid():N}@example.fr" }, Ct);
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        return new Shop(merchant, (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid());
    }

    private async Task<string> OpenSessionAsync(string token)
    {
        using var opened = await fixture.Client.PostAsJsonAsync("/api/v1/sessions", new { token }, Ct);
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        return fixture.Remember((await opened.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("session").GetString()!);
    }

    private async Task<Guid> CreateMachineAsync(Shop shop)
    {
        using var request = Json(HttpMethod.Post, $"/api/v1/merchants/{shop.Slug}/cash/machines",
            new { name = "Caisse 1", host = "127.0.0.1", port = fixture.Cash.Port, tillCode = "1", mode = "express" });
        request.Headers.Add("X-Dashboard-Token", shop.Merchant.DashboardToken);
        using var created = await fixture.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
    }

    /// <summary>The simulated reader stripe-terminal gives every new merchant (on <c>MerchantRegistered</c>).</summary>
    private async Task<string> ReaderOfAsync(Shop shop)
    {
        var readers = await Eventually.Get(async () =>
        {
            using var response = await ManageAsync(HttpMethod.Get, $"/api/v1/merchants/{shop.Slug}/terminal/readers", shop.Merchant.DashboardToken);
            return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        }, r => r.ValueKind == JsonValueKind.Array && r.GetArrayLength() > 0, what: "the merchant's simulated reader");
        return readers[0].GetProperty("id").GetString()!;
    }

    private async Task<long> PointsAsync(Shop shop)
    {
        using var response = await SendAsync(RouteFamily.All["compat-lookup"], shop, shop.Merchant.DashboardToken, Place.Header);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("member").GetProperty("points").GetInt64();
    }

    private Task<HttpResponseMessage> SendAsync(RouteFamily family, Shop shop, string? credential, Place place) =>
        SendRawAsync(family, shop, request =>
        {
            if (credential is null)
            {
                return;
            }

            if (place == Place.Query)
            {
                AppendQuery(request, "token=" + Uri.EscapeDataString(credential));
            }
            else
            {
                request.Headers.TryAddWithoutValidation(place == Place.Header ? "X-Dashboard-Token" : "Authorization", place == Place.Header ? credential : "Bearer " + credential);
            }
        });

    private async Task<HttpResponseMessage> SendRawAsync(RouteFamily family, Shop shop, Action<HttpRequestMessage> credential)
    {
        using var request = family.Make(shop);
        credential(request);
        return await fixture.Client.SendAsync(request, Ct);
    }

    private async Task<HttpResponseMessage> ManageAsync(HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Dashboard-Token", token);
        return await fixture.Client.SendAsync(request, Ct);
    }

    /// <summary>Polls until the credential is refused; the refusal is returned for its body to be checked.</summary>
    private async Task<(TimeSpan Delay, HttpResponseMessage Refused)> UntilUnauthenticatedAsync(RouteFamily family, Shop shop, string credential, Place place)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var response = await SendAsync(family, shop, credential, place);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return (watch.Elapsed, response);
            }

            response.Dispose();
            if (watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"{family.Name}: still {response.StatusCode} after {watch.Elapsed}");
            }

            await Task.Delay(50, Ct);
        }
    }

    /// <summary>The gateway's refusal: the historical body on compatibility routes, problem+json elsewhere.</summary>
    private static async Task AssertUnauthenticated(RouteFamily family, HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{what}: {response.StatusCode} {body}");
        if (family.Compat)
        {
            Assert.Equal("{\"error\":\"Jeton invalide ou manquant.\"}", body);
            return;
        }

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("unauthenticated", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    private static async Task AssertForbidden(RouteFamily family, HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{family.Name}: {response.StatusCode} {body}");
        Assert.Equal(family.ForbiddenCode, JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
    }

    private static void AssertNothingOf(Shop other, string body)
    {
        Assert.DoesNotContain(other.Merchant.Id.ToString(), body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(other.MemberId.ToString(), body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(other.Merchant.Name, body, StringComparison.Ordinal);
    }

    private static void AppendQuery(HttpRequestMessage request, string pair)
    {
        var uri = request.RequestUri!.OriginalString;
        request.RequestUri = new Uri(uri + (uri.Contains('?', StringComparison.Ordinal) ? "&" : "?") + pair, UriKind.Relative);
    }

    private static HttpRequestMessage Json(HttpMethod method, string path, object body) => new(method, path) { Content = JsonContent.Create(body) };

    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);
}
