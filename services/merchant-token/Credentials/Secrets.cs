using System.Security.Cryptography;
using System.Text;

namespace Fidpass.MerchantToken.Credentials;

/// <summary>
/// Opaque credentials (BRIEF: dashboard token <c>fpd_</c>, integration key <c>fpk_</c>, web session
/// <c>fps_</c>): 256 bits from the OS CSPRNG, base64url. Only the SHA-256 of a secret is ever stored;
/// a 256-bit random secret needs no salt or slow hash, and a plain digest keeps lookups indexable.
/// </summary>
public static class Secrets
{
    public const string DashboardTokenPrefix = "fpd_";
    public const string IntegrationKeyPrefix = "fpk_";
    public const string SessionPrefix = "fps_";
    public const int RandomBytes = 32;

    public static string New(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>Lower-case hex SHA-256 of the secret: the stored form and the lookup key.</summary>
    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Constant-time equality of two secrets (hashed first, so lengths never leak either).</summary>
    public static bool FixedTimeEquals(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    /// <summary>Constant-time equality of two stored hashes.</summary>
    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    /// <summary>Shape check only (prefix, length, alphabet); says nothing about validity.</summary>
    public static bool LooksLike(string? secret, string prefix) =>
        secret is not null
        && secret.Length == prefix.Length + 43
        && secret.StartsWith(prefix, StringComparison.Ordinal)
        && secret.AsSpan(prefix.Length).ContainsAnyExcept(Base64UrlAlphabet) is false;

    private static readonly System.Buffers.SearchValues<char> Base64UrlAlphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
