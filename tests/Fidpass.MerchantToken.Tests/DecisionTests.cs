using Fidpass.MerchantToken.Credentials;
using Fidpass.MerchantToken.IntegrationKeys;
using Fidpass.MerchantToken.Merchants;

namespace Fidpass.MerchantToken.Tests;

public sealed class DecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static Merchant NewMerchant() => Merchant.Create(new MerchantCreated(
        Guid.NewGuid(), "cafe-dupont", "Café Dupont", "contact@dupont.fr", Guid.NewGuid(), Secrets.Hash("x"), MerchantRegistration.ByOperator, Now));

    [Fact]
    public void Registration_input_is_normalised()
    {
        var command = MerchantRegistration.Validate(new RegisterMerchantRequest("  Café Dupont ", " Contact@Dupont.FR ", " "));

        Assert.Equal(new RegisterMerchant("Café Dupont", "contact@dupont.fr", null), command);
    }

    [Theory]
    [InlineData(null, "a@b.fr", null, "INVALID_NAME")]
    [InlineData("   ", "a@b.fr", null, "INVALID_NAME")]
    [InlineData("Café", null, null, "INVALID_EMAIL")]
    [InlineData("Café", "pas-un-email", null, "INVALID_EMAIL")]
    [InlineData("Café", "a@b", null, "INVALID_EMAIL")]
    [InlineData("Café", "a b@c.fr", null, "INVALID_EMAIL")]
    [InlineData("Café", "a@@c.fr", null, "INVALID_EMAIL")]
    [InlineData("Café", "a@c.fr", "Café", "INVALID_SLUG")]
    [InlineData("Café", "a@c.fr", "a", "INVALID_SLUG")]
    public void Bad_registrations_are_refused_with_a_stable_code(string? name, string? email, string? slug, string code)
    {
        var refused = Assert.Throws<Rejected>(() => MerchantRegistration.Validate(new RegisterMerchantRequest(name, email, slug)));

        Assert.Equal(400, refused.Status);
        Assert.Equal(code, refused.Code);
    }

    [Fact]
    public void A_registered_merchant_starts_with_its_dashboard_token_and_no_key()
    {
        var tokenId = Guid.NewGuid();
        var created = MerchantRegistration.Decide(new RegisterMerchant("Café", "a@c.fr", null), "cafe", Guid.NewGuid(), tokenId, "hash", MerchantRegistration.BySignUp, Now);

        var merchant = Merchant.Create(created);

        Assert.Equal(tokenId, merchant.DashboardTokenId);
        Assert.Empty(merchant.Keys);
        Assert.Equal("cafe", merchant.Slug);
    }

    [Fact]
    public void A_key_gets_its_scopes_deduplicated_in_canonical_order()
    {
        var merchant = NewMerchant();

        var issued = IntegrationKeyDecisions.Issue(merchant, new IssueIntegrationKeyRequest(" Caisse ", ["cash", "scan", "lookup", "scan"]), Guid.NewGuid(), "h", Now);

        Assert.Equal(["lookup", "scan", "cash"], issued.Scopes);
        Assert.Equal("Caisse", issued.Name);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("scan SCAN")]
    [InlineData("scan  lookup")]
    [InlineData("")]
    public void A_key_with_an_unknown_or_no_scope_is_refused(string spaceSeparated)
    {
        var scopes = spaceSeparated.Length == 0 ? [] : spaceSeparated.Split(' ');
        var refused = Assert.Throws<Rejected>(() =>
            IntegrationKeyDecisions.Issue(NewMerchant(), new IssueIntegrationKeyRequest("Caisse", scopes), Guid.NewGuid(), "h", Now));

        Assert.Equal("INVALID_SCOPE", refused.Code);
    }

    [Fact]
    public void A_key_needs_a_name()
    {
        var refused = Assert.Throws<Rejected>(() =>
            IntegrationKeyDecisions.Issue(NewMerchant(), new IssueIntegrationKeyRequest(" ", ["scan"]), Guid.NewGuid(), "h", Now));

        Assert.Equal("INVALID_NAME", refused.Code);
    }

    [Fact]
    public void A_revoked_key_leaves_the_active_list_and_cannot_be_revoked_twice()
    {
        var merchant = NewMerchant();
        var keyId = Guid.NewGuid();
        merchant = merchant.Apply(IntegrationKeyDecisions.Issue(merchant, new IssueIntegrationKeyRequest("Caisse", ["scan"]), keyId, "h", Now));
        Assert.Single(merchant.ActiveKeys);

        merchant = merchant.Apply(IntegrationKeyDecisions.Revoke(merchant, keyId, Now.AddMinutes(1)));

        Assert.Empty(merchant.ActiveKeys);
        Assert.Equal(Now.AddMinutes(1), merchant.Keys.Single().RevokedAt);
        Assert.Equal("KEY_NOT_FOUND", Assert.Throws<Rejected>(() => IntegrationKeyDecisions.Revoke(merchant, keyId, Now)).Code);
        Assert.Equal("KEY_NOT_FOUND", Assert.Throws<Rejected>(() => IntegrationKeyDecisions.Revoke(merchant, Guid.NewGuid(), Now)).Code);
    }

    [Fact]
    public void Regenerating_the_dashboard_token_revokes_the_current_one()
    {
        var merchant = NewMerchant();
        var newId = Guid.NewGuid();

        var regenerated = DashboardTokenApi.Decide(merchant, newId, "h2", Now);

        Assert.Equal(merchant.DashboardTokenId, regenerated.RevokedTokenId);
        Assert.Equal(newId, merchant.Apply(regenerated).DashboardTokenId);
    }
}
