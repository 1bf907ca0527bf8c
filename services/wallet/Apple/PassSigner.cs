using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Fidpass.Wallet.Apple;

/// <summary>
/// Signs a pass's <c>manifest.json</c> as Apple requires: a detached PKCS#7 (CMS) signature by the
/// pass type certificate, carrying Apple's WWDR intermediate and the signing time.
/// </summary>
public sealed class PassSigner : IDisposable
{
    private static readonly Oid Sha256 = new("2.16.840.1.101.3.4.2.1");
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2 _intermediate;

    public PassSigner(AppleOptions options, ILogger<PassSigner> log)
    {
        if (!string.IsNullOrWhiteSpace(options.CertificatePath) && File.Exists(options.CertificatePath))
        {
            _certificate = X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword,
                X509KeyStorageFlags.EphemeralKeySet);
            _intermediate = X509CertificateLoader.LoadCertificateFromFile(options.IntermediateCertificatePath
                ?? throw new InvalidOperationException("Wallet:Apple:IntermediateCertificatePath is required with Wallet:Apple:CertificatePath (Apple's WWDR certificate)."));
            if (!_certificate.HasPrivateKey)
            {
                throw new InvalidOperationException("Wallet:Apple:CertificatePath holds no private key: export the pass type certificate with its key (.p12).");
            }

            return;
        }

        var chain = TestCertificates.Create(options.PassTypeIdentifier, options.TeamIdentifier);
        (TestRoot, _intermediate, _certificate) = (chain.Root, chain.Intermediate, chain.Pass);
        log.LogWarning("Wallet:Apple:CertificatePath names no file: passes are signed with a test chain generated at start; real iPhones refuse them");
    }

    /// <summary>The root of the generated test chain, when no certificate is configured.</summary>
    public X509Certificate2? TestRoot { get; }

    public byte[] Sign(byte[] manifest)
    {
        var cms = new SignedCms(new ContentInfo(manifest), detached: true);
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, _certificate)
        {
            DigestAlgorithm = Sha256,
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        signer.Certificates.Add(_intermediate);
        signer.SignedAttributes.Add(new Pkcs9SigningTime(DateTime.UtcNow));
        cms.ComputeSignature(signer, silent: true);
        return cms.Encode();
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _intermediate.Dispose();
        TestRoot?.Dispose();
    }
}

/// <summary>A root, a WWDR-like intermediate and a pass type certificate, generated in memory (never committed).</summary>
public static class TestCertificates
{
    public sealed record Chain(X509Certificate2 Root, X509Certificate2 Intermediate, X509Certificate2 Pass);

    public static Chain Create(string passTypeIdentifier, string teamIdentifier)
    {
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        using var rootKey = RSA.Create(2048);
        var rootRequest = Request("CN=Fidpass Test Root CA, O=Fidpass (test)", rootKey, ca: true);
        var root = rootRequest.CreateSelfSigned(now, now.AddYears(5));

        using var intermediateKey = RSA.Create(2048);
        var intermediateRequest = Request("CN=Fidpass Test Worldwide Developer Relations, OU=G4, O=Fidpass (test)", intermediateKey, ca: true);
        using var intermediatePublic = intermediateRequest.Create(root, now, now.AddYears(4), Serial());
        var intermediate = intermediatePublic.CopyWithPrivateKey(intermediateKey);

        using var passKey = RSA.Create(2048);
        var passRequest = Request($"CN=Pass Type ID: {passTypeIdentifier}, OU={teamIdentifier}, O=Fidpass (test)", passKey, ca: false);
        using var passPublic = passRequest.Create(intermediate, now, now.AddYears(1), Serial());
        return new Chain(root, intermediate, passPublic.CopyWithPrivateKey(passKey));
    }

    private static CertificateRequest Request(string subject, RSA key, bool ca)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            ca ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign : X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }

    private static byte[] Serial() => RandomNumberGenerator.GetBytes(12);
}
