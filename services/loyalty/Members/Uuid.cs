using System.Security.Cryptography;
using System.Text;

namespace Fidpass.Loyalty.Members;

/// <summary>Name-based UUIDs (RFC 9562 version 5): the same name always gives the same id, which is
/// what makes a payment's credit operation deterministic across redeliveries and restarts.</summary>
public static class Uuid
{
    public static readonly Guid LoyaltyNamespace = new("5d0f3c1e-8a57-4f6b-9c1d-2b7a4e0f6a31");

    public static Guid V5(Guid ns, string name)
    {
        var nsBytes = ns.ToByteArray(bigEndian: true);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[nsBytes.Length + nameBytes.Length];
        nsBytes.CopyTo(input, 0);
        nameBytes.CopyTo(input, nsBytes.Length);
#pragma warning disable CA5350 // SHA-1 is what RFC 9562 specifies for v5; it is an identifier, not a security measure.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    public static Guid ForPayment(string paymentId) => V5(LoyaltyNamespace, "payment:" + paymentId);

    public static Guid ForRefund(string refundId) => V5(LoyaltyNamespace, "refund:" + refundId);
}
