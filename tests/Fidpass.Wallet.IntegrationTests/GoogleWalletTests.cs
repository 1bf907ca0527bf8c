using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Fidpass.Contracts.Loyalty;
using Fidpass.Testing;

namespace Fidpass.Wallet.IntegrationTests;

/// <summary>
/// Google Wallet as a customer and Google see it: the « Ajouter à Google Wallet » link (a JWT
/// signed by the service account), the merchant's class and the member's object that the wallet
/// writes through the fake Google Wallet API (which only accepts a token it issued for an assertion
/// signed by that key), kept in step with loyalty's events.
/// </summary>
public sealed class GoogleWalletTests(WalletFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_google_link_is_a_jwt_signed_by_the_service_account_naming_the_object_google_holds()
    {
        var member = await fixture.EnrolAsync("Boulangerie Martin", "Inès");

        using var link = await member.GoogleLinkAsync();
        Assert.Equal(HttpStatusCode.Redirect, link.StatusCode);
        var location = link.Headers.Location!.ToString();
        Assert.StartsWith("https://pay.google.com/gp/v/save/", location, StringComparison.Ordinal);
        var claims = VerifiedClaims(location["https://pay.google.com/gp/v/save/".Length..], fixture.GoogleKey);
        Assert.Equal(WalletFixture.GoogleServiceAccount, (string)claims["iss"]!);
        Assert.Equal("google", (string)claims["aud"]!);
        Assert.Equal("savetowallet", (string)claims["typ"]!);
        Assert.Equal([WalletFixture.WebOrigin], claims["origins"]!.AsArray().Select(o => (string)o!));
        var named = claims["payload"]!["loyaltyObjects"]!.AsArray().Single()!;
        Assert.Equal(member.GoogleObjectId, (string)named["id"]!);

        // The object the link names exists at Google, with what the card shows.
        var card = member.GoogleObject ?? throw new InvalidOperationException("no object at Google");
        Assert.Equal((string)named["classId"]!, (string)card["classId"]!);
        Assert.Equal("ACTIVE", (string)card["state"]!);
        Assert.Equal("Inès", (string)card["accountName"]!);
        Assert.Equal(0, (long)card["loyaltyPoints"]!["balance"]!["int"]!);
        Assert.Equal("QR_CODE", (string)card["barcode"]!["type"]!);
        Assert.Equal(member.Id.ToString(), (string)card["barcode"]!["value"]!);

        var shop = FakeGoogleWalletClass(fixture, (string)card["classId"]!);
        Assert.Equal("Boulangerie Martin", (string)shop["issuerName"]!);
        Assert.Equal("#1f3a60", (string)shop["hexBackgroundColor"]!);
        var logo = (string)shop["programLogo"]!["sourceUri"]!["uri"]!;
        Assert.StartsWith($"https://api.fidpass.test/api/v1/wallet/logos/{member.MerchantId:N}.png?v=", logo, StringComparison.Ordinal);
        using var image = await fixture.Client.GetAsync(new Uri(new Uri(logo).PathAndQuery, UriKind.Relative), Ct);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);

        // Another merchant's slug, an unknown member: no link.
        using var unknown = await fixture.NoRedirectClient.SendAsync(WithGatewayIdentity(
            new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{member.Slug}/cards/{Guid.NewGuid()}/wallet/google"), member), Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_credit_patches_the_object_with_the_balance_and_one_message_and_its_redelivery_writes_nothing()
    {
        var member = await fixture.EnrolAsync();
        await Eventually.True(() => Task.FromResult(member.GoogleObject is not null), Patience, "object inserted after the enrolment");

        var credited = await member.CreditAsync(12);
        await Eventually.True(() => Task.FromResult(Balance(member) == 12 && Messages(member).Length == 1), Patience, "object patched after the credit");
        Assert.Equal(["+12 points"], Messages(member));
        var patches = member.GoogleWrites("PATCH");
        var messages = member.GoogleWrites("POST", "/addMessage");
        Assert.Equal(1, messages);

        await fixture.PublishAsync(credited);
        await Eventually.True(() => Task.FromResult(fixture.Consumed.TryGetValue(credited.OperationId, out var n) && n == 2), Patience, "redelivery consumed");
        Assert.Equal(patches, member.GoogleWrites("PATCH"));
        Assert.Equal(messages, member.GoogleWrites("POST", "/addMessage"));
        Assert.Equal(["+12 points"], Messages(member));
        Assert.Equal(12, Balance(member));
    }

    [Fact]
    public async Task Erasure_expires_the_object_without_the_name_and_later_events_leave_it_alone()
    {
        var member = await fixture.EnrolAsync(firstName: "Bastien");
        await member.CreditAsync(30);
        await Eventually.True(() => Task.FromResult(Balance(member) == 30), Patience, "object holds the credit");

        await fixture.PublishAsync(new MemberErased(member.Id, member.MerchantId, DateTimeOffset.UtcNow));
        await Eventually.True(() => Task.FromResult((string?)member.GoogleObject?["state"] == "EXPIRED"), Patience, "object expired");
        Assert.Equal("", (string)member.GoogleObject!["accountName"]!);
        var writes = member.GoogleWrites("PATCH");

        var late = await member.CreditAsync(5);
        await Eventually.True(() => Task.FromResult(fixture.Consumed.ContainsKey(late.OperationId)), Patience, "late credit consumed");
        Assert.Equal(writes, member.GoogleWrites("PATCH"));
        Assert.Equal(30, Balance(member));
        using var link = await member.GoogleLinkAsync();
        Assert.Equal(HttpStatusCode.NotFound, link.StatusCode);
    }

    internal static long? Balance(Member member) => (long?)member.GoogleObject?["loyaltyPoints"]?["balance"]?["int"];

    private static string[] Messages(Member member) =>
        member.GoogleObject?["messages"] is JsonArray messages ? [.. messages.Select(m => (string)m!["body"]!)] : [];

    internal static JsonObject FakeGoogleWalletClass(WalletFixture fixture, string classId) =>
        FakeGoogleWallet.FakeGoogleWalletState.Copy(fixture.Google.Classes[classId]);

    private static HttpRequestMessage WithGatewayIdentity(HttpRequestMessage request, Member member)
    {
        request.Headers.Add(ServiceDefaults.GatewayIdentity.MerchantIdHeader, member.MerchantId.ToString());
        request.Headers.Add(ServiceDefaults.GatewayIdentity.MerchantSlugHeader, member.Slug);
        request.Headers.Add(ServiceDefaults.GatewayIdentity.CredentialKindHeader, ServiceDefaults.GatewayIdentity.Anonymous);
        return request;
    }

    /// <summary>The JWT's claims once its RS256 signature verifies with <paramref name="key"/> (throws otherwise).</summary>
    public static JsonObject VerifiedClaims(string jwt, RSA key)
    {
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var header = JsonNode.Parse(FromBase64Url(parts[0]))!;
        Assert.Equal("RS256", (string)header["alg"]!);
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "the JWT's signature verifies with the service account's public key");
        return JsonNode.Parse(FromBase64Url(parts[1]))!.AsObject();
    }

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        return Convert.FromBase64String(padded);
    }
}
