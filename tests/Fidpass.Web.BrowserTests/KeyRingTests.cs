using System.Net;
using Fidpass.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Fidpass.Web.BrowserTests;

/// <summary>Two web replicas sharing the Data Protection key ring (DataProtection:KeysDirectory) read each other's session cookies.</summary>
[Collection(WebCollection.Name)]
public sealed class KeyRingTests(WebFixture fixture) : IDisposable
{
    private readonly string _shared = Directory.CreateTempSubdirectory("fidpass-keys-").FullName;
    private readonly string _foreign = Directory.CreateTempSubdirectory("fidpass-keys-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The test's hosts are disposed by then: their key rings go with them.</summary>
    public void Dispose()
    {
        Directory.Delete(_shared, recursive: true);
        Directory.Delete(_foreign, recursive: true);
    }

    private ServiceHost<WebApp> Replica(string keys) => new ServiceHost<WebApp>()
        .With("Gateway:Address", fixture.Gateway.Address.ToString())
        .With("Gateway:PublicAddress", fixture.Gateway.Address.ToString())
        .With("DataProtection:KeysDirectory", keys);

    private static HttpClient Browserless(ServiceHost<WebApp> host) =>
        host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    [Fact]
    public async Task A_session_opened_on_one_replica_is_accepted_by_another_sharing_the_key_ring_and_refused_by_one_that_does_not()
    {
        await using var first = Replica(_shared);
        await using var second = Replica(_shared);
        await using var stranger = Replica(_foreign);
        var merchant = await fixture.CreateMerchantAsync("Café des Replicas");

        using var signIn = await Browserless(first).GetAsync($"/?token={Uri.EscapeDataString(merchant.DashboardToken)}", Ct);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("fidpass_session=", StringComparison.Ordinal));

        async Task<HttpResponseMessage> MembersPageAsync(ServiceHost<WebApp> host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/membres");
            request.Headers.Add("Cookie", cookie);
            return await Browserless(host).SendAsync(request, Ct);
        }

        using var onSecond = await MembersPageAsync(second);
        Assert.Equal(HttpStatusCode.OK, onSecond.StatusCode);
        Assert.Contains("Café des Replicas", WebUtility.HtmlDecode(await onSecond.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);

        // A replica with a key ring of its own cannot decrypt the cookie: back to the sign-in page.
        using var onStranger = await MembersPageAsync(stranger);
        Assert.Equal(HttpStatusCode.Redirect, onStranger.StatusCode);
        Assert.StartsWith("/", onStranger.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.NotEmpty(Directory.GetFiles(_shared, "key-*.xml"));
    }
}
