namespace Fidpass.Wallet.Apple;

/// <summary>
/// <c>Wallet:Apple</c>. Without <see cref="CertificatePath"/> the service signs with a test chain it
/// generates at start, and without <see cref="AppleApnsOptions.KeyPath"/> it signs APNs tokens with a
/// key it generates: every flow runs offline (against the fake APNs), and real iPhones refuse both.
/// </summary>
public sealed class AppleOptions
{
    /// <summary>The pass type id registered with Apple; also the APNs topic.</summary>
    public string PassTypeIdentifier { get; init; } = "pass.fr.fidpass.test";

    /// <summary>The Apple developer team that owns the pass type.</summary>
    public string TeamIdentifier { get; init; } = "FIDPASSTST";

    /// <summary>The pass type certificate with its private key, as Apple's portal exports it (PKCS#12, <c>.p12</c>).</summary>
    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }

    /// <summary>Apple's WWDR intermediate certificate (DER or PEM) that issued <see cref="CertificatePath"/>.</summary>
    public string? IntermediateCertificatePath { get; init; }

    /// <summary>Where phones reach the PassKit web service: the gateway's public address + <c>/wallet/apple</c> (HTTPS in production).</summary>
    public string WebServiceUrl { get; init; } = "http://127.0.0.1:5080/wallet/apple";

    public AppleApnsOptions Apns { get; init; } = new();
}

/// <summary><c>Wallet:Apple:Apns</c>: token-based APNs authentication with a <c>.p8</c> key.</summary>
public sealed class AppleApnsOptions
{
    /// <summary><c>https://api.push.apple.com</c> in production, the fake APNs here (h2c or TLS).</summary>
    public string BaseAddress { get; init; } = "https://api.push.apple.com";

    /// <summary>The APNs authentication key (<c>AuthKey_XXXXXXXXXX.p8</c>, PKCS#8 PEM, P-256).</summary>
    public string? KeyPath { get; init; }

    /// <summary>The key's 10-character id (the JWT's <c>kid</c>).</summary>
    public string KeyId { get; init; } = "FIDPASSKEY";

    /// <summary>The team that owns the key (the JWT's <c>iss</c>); the pass's team when not set.</summary>
    public string? TeamId { get; init; }
}
