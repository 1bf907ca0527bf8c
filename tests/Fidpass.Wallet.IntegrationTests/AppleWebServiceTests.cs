using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fidpass.Contracts.Loyalty;
using Fidpass.Testing;

namespace Fidpass.Wallet.IntegrationTests;

/// <summary>
/// The PassKit web service as an iPhone uses it, with loyalty's events on the bus and the fake APNs
/// (HTTP/2, token checked) in between.
/// </summary>
public sealed class AppleWebServiceTests(WalletFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_registered_iphone_is_pushed_on_a_credit_finds_the_pass_updated_and_gets_the_new_balance()
    {
        var member = await fixture.EnrolAsync();
        var token = await member.AuthenticationTokenAsync();
        var device = "device-" + Guid.NewGuid().ToString("N");
        var pushToken = WalletFixture.NewPushToken();

        using (var registered = await member.RegisterAsync(device, pushToken, token))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        using (var again = await member.RegisterAsync(device, pushToken, token))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        var (serials, tag) = await UpdatedSerialsAsync(device, null);
        Assert.Equal([member.Id.ToString()], serials);
        using var first = await member.LatestPassAsync(token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var lastModified = first.Content.Headers.LastModified ?? throw new InvalidOperationException("no Last-Modified");
        using (var unchanged = await member.LatestPassAsync(token, lastModified))
        {
            Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        }

        using (var nothingNew = await member.WebServiceAsync(HttpMethod.Get, $"devices/{device}/registrations/{WalletFixture.PassTypeIdentifier}?passesUpdatedSince={tag}", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, nothingNew.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        await member.CreditAsync(12);
        await Eventually.True(() => Task.FromResult(fixture.PushesTo(pushToken) == 1), TimeSpan.FromSeconds(5), "push received by APNs within 5 s");
        var latency = clock.Elapsed;
        var push = fixture.Apns.Pushes.Single(p => p.DeviceToken == pushToken);
        Assert.Equal(WalletFixture.PassTypeIdentifier, push.Topic);
        Assert.Equal("{}", push.Payload);

        // The two wallet metrics of docs/operations.md's table (the metric contract test hosts no wallet).
        var metrics = await fixture.Wallet.CreateClient().GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Contains("fidpass_wallet_pushes_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("fidpass_wallet_passes_total{", metrics, StringComparison.Ordinal);

        var (updated, newTag) = await UpdatedSerialsAsync(device, tag);
        Assert.Equal([member.Id.ToString()], updated);
        Assert.True(long.Parse(newTag, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(tag, System.Globalization.CultureInfo.InvariantCulture));

        using var latest = await member.LatestPassAsync(token, lastModified);
        Assert.Equal(HttpStatusCode.OK, latest.StatusCode);
        Assert.Equal("application/vnd.apple.pkpass", latest.Content.Headers.ContentType?.MediaType);
        Assert.True(latest.Content.Headers.LastModified > lastModified);
        var pass = JsonNode.Parse(WalletFixture.Unzip(await latest.Content.ReadAsByteArrayAsync(Ct))["pass.json"])!;
        Assert.Equal(12, (long)pass["storeCard"]!["primaryFields"]![0]!["value"]!);
        using (var notModified = await member.LatestPassAsync(token, latest.Content.Headers.LastModified))
        {
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        // A second phone witnesses the next push; the unregistered one gets none.
        var witness = WalletFixture.NewPushToken();
        using (var second = await member.RegisterAsync("witness-" + device, witness, token))
        {
            Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        }

        using (var unregistered = await member.WebServiceAsync(HttpMethod.Delete, member.RegistrationPath(device), token))
        {
            Assert.Equal(HttpStatusCode.OK, unregistered.StatusCode);
        }

        await member.CreditAsync(5);
        await Eventually.True(() => Task.FromResult(fixture.PushesTo(witness) == 1), TimeSpan.FromSeconds(15), "push to the other phone");
        Assert.Equal(1, fixture.PushesTo(pushToken));
        using (var gone = await member.WebServiceAsync(HttpMethod.Get, $"devices/{device}/registrations/{WalletFixture.PassTypeIdentifier}", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, gone.StatusCode);
        }

        TestContext.Current.SendDiagnosticMessage($"credit published → push received: {latency.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Requests_without_the_passs_own_token_are_refused_and_change_nothing()
    {
        var member = await fixture.EnrolAsync();
        var other = await fixture.EnrolAsync();
        var otherToken = await other.AuthenticationTokenAsync();
        var device = "device-" + Guid.NewGuid().ToString("N");

        foreach (var token in new[] { null, "", otherToken, "not-the-token-of-this-pass" })
        {
            using var register = await member.RegisterAsync(device, WalletFixture.NewPushToken(), token);
            Assert.Equal(HttpStatusCode.Unauthorized, register.StatusCode);
            using var latest = await member.LatestPassAsync(token);
            Assert.Equal(HttpStatusCode.Unauthorized, latest.StatusCode);
        }

        using var wrongType = await member.WebServiceAsync(HttpMethod.Get, $"passes/pass.com.someone.else/{member.Id}", await member.AuthenticationTokenAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongType.StatusCode);
        using var serials = await member.WebServiceAsync(HttpMethod.Get, $"devices/{device}/registrations/{WalletFixture.PassTypeIdentifier}", null);
        Assert.Equal(HttpStatusCode.NoContent, serials.StatusCode);
        using var badTag = await member.WebServiceAsync(HttpMethod.Get, $"devices/{device}/registrations/{WalletFixture.PassTypeIdentifier}?passesUpdatedSince=hier", null);
        Assert.Equal(HttpStatusCode.BadRequest, badTag.StatusCode);
    }

    [Fact]
    public async Task A_device_apns_says_is_gone_is_unregistered()
    {
        var member = await fixture.EnrolAsync();
        var token = await member.AuthenticationTokenAsync();
        var device = "device-" + Guid.NewGuid().ToString("N");
        var pushToken = WalletFixture.NewPushToken();
        using (var registered = await member.RegisterAsync(device, pushToken, token))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        fixture.Apns.Unregister(pushToken);
        var credit = await member.CreditAsync(3);
        await Eventually.True(() => Task.FromResult(fixture.Consumed.ContainsKey(credit.OperationId)), TimeSpan.FromSeconds(30), "credit consumed");

        using var serials = await member.WebServiceAsync(HttpMethod.Get, $"devices/{device}/registrations/{WalletFixture.PassTypeIdentifier}", null);
        Assert.Equal(HttpStatusCode.NoContent, serials.StatusCode);
        Assert.Equal(0, fixture.PushesTo(pushToken));
    }

    [Fact]
    public async Task The_log_endpoint_takes_device_messages()
    {
        var member = await fixture.EnrolAsync();
        using var response = await member.WebServiceAsync(HttpMethod.Post, "log", null,
            new StringContent("{\"logs\":[\"Web service error for pass.fr.fidpass: 500\"]}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<(string[] Serials, string Tag)> UpdatedSerialsAsync(string device, string? since)
    {
        var query = since is null ? "" : $"?passesUpdatedSince={since}";
        var member = new Member(Guid.Empty, Guid.Empty, "", fixture);
        using var response = await member.WebServiceAsync(HttpMethod.Get, $"devices/{device}/registrations/{WalletFixture.PassTypeIdentifier}{query}", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        return ([.. body.GetProperty("serialNumbers").EnumerateArray().Select(s => s.GetString()!)], body.GetProperty("lastUpdated").GetString()!);
    }
}

/// <summary>Loyalty's events arrive at least once: a redelivery changes nothing and pushes nothing.</summary>
public sealed class RedeliveryTests(WalletFixture fixture)
{
    [Fact]
    public async Task A_redelivered_credit_does_not_push_twice_nor_change_the_pass()
    {
        var member = await fixture.EnrolAsync();
        var token = await member.AuthenticationTokenAsync();
        var pushToken = WalletFixture.NewPushToken();
        using (var registered = await member.RegisterAsync("device-" + Guid.NewGuid().ToString("N"), pushToken, token))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        // Two credits stamped with the same instant: only the operation id tells the first one's redelivery apart.
        var at = DateTimeOffset.UtcNow;
        var credit = new PointsCredited(Guid.NewGuid(), member.Id, member.MerchantId, 20, 20, PointsSource.Payment, "pi_1", at);
        var next = new PointsCredited(Guid.NewGuid(), member.Id, member.MerchantId, 5, 25, PointsSource.Payment, "pi_2", at);
        await fixture.PublishAsync(credit);
        await Eventually.True(() => Task.FromResult(fixture.PushesTo(pushToken) == 1), TimeSpan.FromSeconds(15), "first push");
        await fixture.PublishAsync(next);
        await Eventually.True(() => Task.FromResult(fixture.PushesTo(pushToken) == 2), TimeSpan.FromSeconds(15), "second push");
        using var before = await member.LatestPassAsync(token);
        var lastModified = before.Content.Headers.LastModified;

        await fixture.PublishAsync(credit);
        await fixture.PublishAsync(credit with { });
        await Eventually.True(() => Task.FromResult(fixture.Consumed.GetValueOrDefault(credit.OperationId) == 3), TimeSpan.FromSeconds(30), "both redeliveries consumed");

        Assert.Equal(2, fixture.PushesTo(pushToken));
        using var after = await member.LatestPassAsync(token, lastModified);
        Assert.Equal(HttpStatusCode.NotModified, after.StatusCode);
        Assert.Equal(25, (long)(await member.PassJsonAsync())["storeCard"]!["primaryFields"]![0]!["value"]!);
    }

    [Fact]
    public async Task An_older_event_arriving_late_does_not_bring_an_old_balance_back()
    {
        var member = await fixture.EnrolAsync();
        var at = DateTimeOffset.UtcNow;
        var newer = new PointsCredited(Guid.NewGuid(), member.Id, member.MerchantId, 10, 30, PointsSource.Integration, null, at);
        var older = new PointsCredited(Guid.NewGuid(), member.Id, member.MerchantId, 20, 20, PointsSource.Integration, null, at.AddSeconds(-1));

        await fixture.PublishAsync(newer);
        await Eventually.True(() => Task.FromResult(fixture.Consumed.ContainsKey(newer.OperationId)), TimeSpan.FromSeconds(30), "newer consumed");
        await fixture.PublishAsync(older);
        await Eventually.True(() => Task.FromResult(fixture.Consumed.ContainsKey(older.OperationId)), TimeSpan.FromSeconds(30), "older consumed");

        var pass = await member.PassJsonAsync();
        Assert.Equal(30, (long)pass["storeCard"]!["primaryFields"]![0]!["value"]!);
    }
}

/// <summary>GDPR erasure removes the member's pass from their phones.</summary>
public sealed class ErasureTests(WalletFixture fixture)
{
    [Fact]
    public async Task An_erased_members_phones_are_pushed_and_the_pass_is_gone()
    {
        var member = await fixture.EnrolAsync(firstName: "Camille");
        var token = await member.AuthenticationTokenAsync();
        var device = "device-" + Guid.NewGuid().ToString("N");
        var pushToken = WalletFixture.NewPushToken();
        using (var registered = await member.RegisterAsync(device, pushToken, token))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        await fixture.PublishAsync(new MemberErased(member.Id, member.MerchantId, DateTimeOffset.UtcNow));
        await Eventually.True(() => Task.FromResult(fixture.PushesTo(pushToken) == 1), TimeSpan.FromSeconds(5), "push received by APNs within 5 s");

        using var latest = await member.LatestPassAsync(token);
        Assert.Equal(HttpStatusCode.Gone, latest.StatusCode);
        using var register = await member.RegisterAsync("another-" + device, WalletFixture.NewPushToken(), token);
        Assert.Equal(HttpStatusCode.Unauthorized, register.StatusCode);
        using var download = await member.DownloadAsync();
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);

        // Points credited after the erasure (a late payment) bring nothing back.
        var late = await member.CreditAsync(7);
        await Eventually.True(() => Task.FromResult(fixture.Consumed.ContainsKey(late.OperationId)), TimeSpan.FromSeconds(30), "late credit consumed");
        Assert.Equal(1, fixture.PushesTo(pushToken));
        using var stillGone = await member.LatestPassAsync(token);
        Assert.Equal(HttpStatusCode.Gone, stillGone.StatusCode);
    }
}
