using Fidpass.MerchantToken.Credentials;

namespace Fidpass.MerchantToken.Tests;

public sealed class SecretTests
{
    [Theory]
    [InlineData(Secrets.DashboardTokenPrefix)]
    [InlineData(Secrets.IntegrationKeyPrefix)]
    [InlineData(Secrets.SessionPrefix)]
    public void A_secret_is_its_prefix_and_256_random_bits_in_base64url(string prefix)
    {
        var secret = Secrets.New(prefix);

        Assert.StartsWith(prefix, secret, StringComparison.Ordinal);
        var body = secret[prefix.Length..];
        Assert.Equal(43, body.Length);
        Assert.DoesNotContain('+', body);
        Assert.DoesNotContain('/', body);
        Assert.DoesNotContain('=', body);
        Assert.Equal(32, Convert.FromBase64String(body.Replace('-', '+').Replace('_', '/') + "=").Length);
        Assert.True(Secrets.LooksLike(secret, prefix));
    }

    [Fact]
    public void Secrets_never_repeat()
    {
        var secrets = Enumerable.Range(0, 10_000).Select(_ => Secrets.New(Secrets.IntegrationKeyPrefix)).ToHashSet();

        Assert.Equal(10_000, secrets.Count);
    }

    [Fact]
    public void Only_the_sha256_hex_is_stored_and_it_is_stable()
    {
        var secret = Secrets.New(Secrets.DashboardTokenPrefix);

        var hash = Secrets.Hash(secret);

        Assert.Equal(64, hash.Length);
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(hash, Secrets.Hash(secret));
        Assert.DoesNotContain(secret[4..], hash, StringComparison.Ordinal);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Secrets.Hash("abc"));
    }

    [Fact]
    public void Comparisons_are_exact()
    {
        Assert.True(Secrets.FixedTimeEquals("operator-key", "operator-key"));
        Assert.False(Secrets.FixedTimeEquals("operator-key", "operator-kez"));
        Assert.False(Secrets.FixedTimeEquals("", "operator-key"));
        Assert.False(Secrets.LooksLike("fpk_short", Secrets.IntegrationKeyPrefix));
        Assert.False(Secrets.LooksLike(Secrets.New(Secrets.IntegrationKeyPrefix), Secrets.DashboardTokenPrefix));
        Assert.False(Secrets.LooksLike("fpd_" + new string('!', 43), Secrets.DashboardTokenPrefix));
    }
}
