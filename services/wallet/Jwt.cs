using System.Text;
using System.Text.Json;

namespace Fidpass.Wallet;

/// <summary>Compact JWS: base64url(header).base64url(claims).base64url(signature).</summary>
public static class Jwt
{
    public static string Sign(object header, object claims, Func<byte[], byte[]> sign)
    {
        var signingInput = $"{Base64Url(JsonSerializer.SerializeToUtf8Bytes(header))}.{Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims))}";
        return $"{signingInput}.{Base64Url(sign(Encoding.ASCII.GetBytes(signingInput)))}";
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
