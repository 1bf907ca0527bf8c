using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fidpass.Wallet.Passes;

namespace Fidpass.Wallet.Apple;

/// <summary>
/// A store card as Apple Wallet reads it: <c>pass.json</c>, its images, <c>manifest.json</c> (the
/// SHA-1 of every file) and <c>signature</c> (detached CMS over the manifest), zipped.
/// </summary>
public sealed class PkPass(AppleOptions options, PassSigner signer)
{
    public const string ContentType = "application/vnd.apple.pkpass";

    public JsonObject PassJson(WalletPass pass, WalletMerchant merchant)
    {
        var serial = pass.Id.ToString();
        JsonObject Barcode(string format) => new()
        {
            ["format"] = format,
            ["message"] = serial,
            ["messageEncoding"] = "iso-8859-1",
            ["altText"] = serial[..8],
        };

        var secondary = new JsonArray
        {
            new JsonObject { ["key"] = "member", ["label"] = "MEMBRE", ["value"] = pass.MemberName },
        };
        if (pass.LastChange is not null)
        {
            secondary.Add(new JsonObject
            {
                ["key"] = "lastChange",
                ["label"] = "DERNIER MOUVEMENT",
                ["value"] = pass.LastChange,
                // %@ is the new value: the phone announces « +12 points » on the lock screen.
                ["changeMessage"] = "%@",
            });
        }

        return new JsonObject
        {
            ["formatVersion"] = 1,
            ["passTypeIdentifier"] = options.PassTypeIdentifier,
            ["serialNumber"] = serial,
            ["teamIdentifier"] = options.TeamIdentifier,
            ["organizationName"] = merchant.Name,
            ["description"] = $"Carte de fidélité {merchant.Name}",
            ["logoText"] = merchant.Name,
            ["backgroundColor"] = merchant.BackgroundColor,
            ["foregroundColor"] = merchant.ForegroundColor,
            ["labelColor"] = merchant.LabelColor,
            ["webServiceURL"] = options.WebServiceUrl,
            ["authenticationToken"] = pass.AuthenticationToken,
            ["sharingProhibited"] = true,
            ["barcodes"] = new JsonArray { Barcode("PKBarcodeFormatQR"), Barcode("PKBarcodeFormatPDF417") },
            ["storeCard"] = new JsonObject
            {
                ["primaryFields"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["key"] = "balance",
                        ["label"] = "POINTS",
                        ["value"] = pass.Balance,
                        ["changeMessage"] = "Nouveau solde : %@ points",
                    },
                },
                ["secondaryFields"] = secondary,
                ["auxiliaryFields"] = pass.NextReward is null ? new JsonArray() : new JsonArray
                {
                    new JsonObject { ["key"] = "nextReward", ["label"] = "PROCHAINE RÉCOMPENSE", ["value"] = pass.NextReward },
                },
                ["backFields"] = new JsonArray
                {
                    new JsonObject { ["key"] = "card", ["label"] = "Numéro de carte", ["value"] = serial },
                    new JsonObject
                    {
                        ["key"] = "updated",
                        ["label"] = "Mis à jour",
                        ["value"] = pass.LastModified.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                        ["dateStyle"] = "PKDateStyleShort",
                        ["timeStyle"] = "PKDateStyleShort",
                    },
                },
            },
        };
    }

    public byte[] Build(WalletPass pass, WalletMerchant merchant)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["pass.json"] = JsonSerializer.SerializeToUtf8Bytes(PassJson(pass, merchant)),
            ["icon.png"] = PassImages.Square(29, merchant.BackgroundColor, merchant.ForegroundColor),
            ["icon@2x.png"] = PassImages.Square(58, merchant.BackgroundColor, merchant.ForegroundColor),
            ["logo.png"] = merchant.LogoPngBase64 is null ? PassImages.Square(50, merchant.BackgroundColor, merchant.ForegroundColor) : merchant.Logo(),
            ["logo@2x.png"] = merchant.Logo(),
        };
        var manifest = new JsonObject();
        foreach (var (name, content) in files)
        {
#pragma warning disable CA5350 // Apple's manifest format is SHA-1 hashes; the signature itself is SHA-256.
            manifest[name] = Convert.ToHexStringLower(SHA1.HashData(content));
#pragma warning restore CA5350
        }

        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest);
        files["manifest.json"] = manifestBytes;
        files["signature"] = signer.Sign(manifestBytes);

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                entry.Write(content);
            }
        }

        return buffer.ToArray();
    }
}
