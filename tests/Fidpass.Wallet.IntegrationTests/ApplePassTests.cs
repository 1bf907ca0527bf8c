using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Fidpass.Testing;
using Fidpass.Wallet.Apple;
using Microsoft.Extensions.Logging.Abstractions;

[assembly: AssemblyFixture(typeof(Fidpass.Wallet.IntegrationTests.WalletFixture))]

namespace Fidpass.Wallet.IntegrationTests;

/// <summary>The <c>.pkpass</c> a customer adds from their card page, checked as Apple Wallet checks it.</summary>
public sealed class ApplePassTests(WalletFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_pass_is_a_store_card_with_the_member_barcode_the_merchant_and_the_live_balance()
    {
        var member = await fixture.EnrolAsync("Boulangerie Martin", "Léa");
        var credit = await member.CreditAsync(12);
        await Eventually.True(() => Task.FromResult(fixture.Consumed.ContainsKey(credit.OperationId)), TimeSpan.FromSeconds(30), "credit consumed");

        using var response = await member.DownloadAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PkPass.ContentType, response.Content.Headers.ContentType?.MediaType);
        var pass = JsonNode.Parse(WalletFixture.Unzip(await response.Content.ReadAsByteArrayAsync(Ct))["pass.json"])!;

        Assert.Equal(1, (int)pass["formatVersion"]!);
        Assert.Equal(WalletFixture.PassTypeIdentifier, (string)pass["passTypeIdentifier"]!);
        Assert.Equal(WalletFixture.TeamIdentifier, (string)pass["teamIdentifier"]!);
        Assert.Equal(member.Id.ToString(), (string)pass["serialNumber"]!);
        Assert.Equal("Boulangerie Martin", (string)pass["organizationName"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)pass["description"]));
        Assert.Equal("https://fidpass.test/wallet/apple", (string)pass["webServiceURL"]!);
        Assert.True(((string)pass["authenticationToken"]!).Length >= 16);
        Assert.Matches(@"^rgb\(\d{1,3}, \d{1,3}, \d{1,3}\)$", (string)pass["backgroundColor"]!);
        Assert.Matches(@"^rgb\(\d{1,3}, \d{1,3}, \d{1,3}\)$", (string)pass["foregroundColor"]!);

        var barcodes = pass["barcodes"]!.AsArray();
        Assert.Equal(["PKBarcodeFormatQR", "PKBarcodeFormatPDF417"], barcodes.Select(b => (string)b!["format"]!));
        Assert.All(barcodes, b => Assert.Equal(member.Id.ToString(), (string)b!["message"]!));

        var card = pass["storeCard"]!;
        var balance = card["primaryFields"]!.AsArray().Single(f => (string)f!["key"]! == "balance")!;
        Assert.Equal(12, (long)balance["value"]!);
        Assert.Contains("%@", (string)balance["changeMessage"]!, StringComparison.Ordinal);
        var secondary = card["secondaryFields"]!.AsArray();
        Assert.Equal("Léa", (string)secondary.Single(f => (string)f!["key"]! == "member")!["value"]!);
        var lastChange = secondary.Single(f => (string)f!["key"]! == "lastChange")!;
        Assert.Equal("+12 points", (string)lastChange["value"]!);
        Assert.Equal("%@", (string)lastChange["changeMessage"]!);
    }

    [Fact]
    public async Task The_manifest_hashes_every_file_and_the_signature_verifies_against_the_configured_chain()
    {
        var member = await fixture.EnrolAsync();
        using var response = await member.DownloadAsync();
        var files = WalletFixture.Unzip(await response.Content.ReadAsByteArrayAsync(Ct));

        Assert.Contains("icon.png", files.Keys);
        var manifest = JsonNode.Parse(files["manifest.json"])!.AsObject();
        var hashed = files.Keys.Where(name => name is not ("manifest.json" or "signature")).Order().ToList();
        Assert.Equal(hashed, manifest.Select(kv => kv.Key).Order());
#pragma warning disable CA5350 // Apple's manifest format.
        Assert.All(hashed, name => Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(files[name])), (string)manifest[name]!));
#pragma warning restore CA5350

        AssertSignedByChain(files["manifest.json"], files["signature"], fixture.Chain.Root, WalletFixture.PassTypeIdentifier);

        // A pass whose content changed after signing no longer verifies.
        var tampered = (byte[])files["manifest.json"].Clone();
        tampered[^2] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => AssertSignedByChain(tampered, files["signature"], fixture.Chain.Root, WalletFixture.PassTypeIdentifier));
    }

    [Fact]
    public void Without_a_configured_certificate_passes_are_signed_by_a_test_chain_generated_at_start()
    {
        using var signer = new PassSigner(new AppleOptions(), NullLogger<PassSigner>.Instance);
        var manifest = "{\"pass.json\":\"00\"}"u8.ToArray();

        Assert.NotNull(signer.TestRoot);
        AssertSignedByChain(manifest, signer.Sign(manifest), signer.TestRoot, new AppleOptions().PassTypeIdentifier);
    }

    [Fact]
    public async Task Another_merchants_slug_an_unknown_card_or_a_bad_id_get_no_pass()
    {
        var member = await fixture.EnrolAsync();

        using var otherMerchant = await member.DownloadAsync(asMerchant: Guid.NewGuid());
        Assert.Equal(HttpStatusCode.NotFound, otherMerchant.StatusCode);
        using var unknown = await (member with { Id = Guid.NewGuid() }).DownloadAsync();
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var badId = await fixture.Client.GetAsync(new Uri($"/api/v1/merchants/{member.Slug}/cards/pas-un-uuid/wallet/apple", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, badId.StatusCode); // no gateway identity: as unknown as an unknown card
    }

    /// <summary>Detached CMS over the manifest, SHA-256, signing time, the intermediate carried, the signer chaining to <paramref name="root"/>.</summary>
    private static void AssertSignedByChain(byte[] manifest, byte[] signature, X509Certificate2 root, string passTypeIdentifier)
    {
        var cms = new SignedCms(new ContentInfo(manifest), detached: true);
        cms.Decode(signature);
        cms.CheckSignature(verifySignatureOnly: true);

        var signer = Assert.Single(cms.SignerInfos.Cast<SignerInfo>());
        Assert.Equal("2.16.840.1.101.3.4.2.1", signer.DigestAlgorithm.Value);
        Assert.Contains(signer.SignedAttributes.Cast<CryptographicAttributeObject>(), a => a.Oid.Value == "1.2.840.113549.1.9.5");
        Assert.Contains(passTypeIdentifier, signer.Certificate!.Subject, StringComparison.Ordinal);

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ExtraStore.AddRange(cms.Certificates);
        Assert.True(chain.Build(signer.Certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal(3, chain.ChainElements.Count);
    }
}
