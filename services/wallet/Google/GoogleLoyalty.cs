using System.Globalization;
using System.Text.Json.Nodes;
using Fidpass.Wallet.Passes;

namespace Fidpass.Wallet.Google;

/// <summary>
/// The pass as Google Wallet's REST API wants it (https://developers.google.com/wallet/reference/rest/v1):
/// one <c>loyaltyClass</c> per merchant (its name, colour and logo, shared by every card of the
/// shop) and one <c>loyaltyObject</c> per member (balance, first name, QR code with the member UUID).
/// </summary>
public sealed class GoogleLoyalty(GoogleOptions options)
{
    public string ClassId(Guid merchantId) => $"{options.IssuerId}.merchant-{merchantId:N}";

    public string ObjectId(Guid memberId) => $"{options.IssuerId}.member-{memberId:N}";

    /// <summary>Versioned by the branding's time: Google fetches a new logo instead of keeping the old one cached.</summary>
    public string LogoUrl(WalletMerchant merchant) =>
        $"{options.ImageBaseUrl.TrimEnd('/')}/api/v1/wallet/logos/{merchant.Id:N}.png?v={merchant.BrandingAt.ToUnixTimeSeconds()}";

    public JsonObject LoyaltyClass(WalletMerchant merchant) => new()
    {
        ["id"] = ClassId(merchant.Id),
        ["issuerName"] = merchant.Name,
        ["programName"] = $"Carte de fidélité {merchant.Name}",
        ["programLogo"] = new JsonObject
        {
            ["sourceUri"] = new JsonObject { ["uri"] = LogoUrl(merchant) },
            ["contentDescription"] = French($"Logo {merchant.Name}"),
        },
        ["hexBackgroundColor"] = Hex(merchant.BackgroundColor),
        ["countryCode"] = "FR",
        ["reviewStatus"] = "UNDER_REVIEW",
        ["localizedProgramName"] = French($"Carte de fidélité {merchant.Name}"),
    };

    /// <summary>What the member's card shows; the messages are added one by one (<c>addMessage</c>).</summary>
    public JsonObject LoyaltyObject(WalletPass pass)
    {
        var serial = pass.Id.ToString();
        var texts = new JsonArray();
        if (pass.LastChange is not null)
        {
            texts.Add(new JsonObject { ["id"] = "last_change", ["header"] = "Dernier mouvement", ["body"] = pass.LastChange });
        }

        if (pass.NextReward is not null)
        {
            texts.Add(new JsonObject { ["id"] = "next_reward", ["header"] = "Prochaine récompense", ["body"] = pass.NextReward });
        }

        return new JsonObject
        {
            ["id"] = ObjectId(pass.Id),
            ["classId"] = ClassId(pass.MerchantId),
            ["state"] = "ACTIVE",
            ["accountId"] = serial,
            ["accountName"] = pass.MemberName,
            ["loyaltyPoints"] = new JsonObject
            {
                ["label"] = "Points",
                ["balance"] = new JsonObject { ["int"] = pass.Balance },
            },
            ["barcode"] = new JsonObject { ["type"] = "QR_CODE", ["value"] = serial, ["alternateText"] = serial[..8] },
            ["textModulesData"] = texts,
        };
    }

    /// <summary>An erased member's card: expired, without their name.</summary>
    public static JsonObject Expired() => new() { ["state"] = "EXPIRED", ["accountName"] = "", ["textModulesData"] = new JsonArray() };

    /// <summary>« +12 points », announced on the phone.</summary>
    public static JsonObject Message(Guid changeId, string header, string body) => new()
    {
        ["message"] = new JsonObject
        {
            ["id"] = $"change-{changeId:N}",
            ["header"] = header,
            ["body"] = body,
            ["messageType"] = "TEXT_AND_NOTIFY",
        },
    };

    /// <summary><c>rgb(31, 58, 96)</c> (Apple's notation, kept in <see cref="WalletMerchant"/>) or <c>#1f3a60</c> → <c>#1f3a60</c>.</summary>
    public static string Hex(string color)
    {
        if (color.StartsWith('#'))
        {
            return color.ToLowerInvariant();
        }

        var parts = color.Trim().TrimStart("rgb(".ToCharArray()).TrimEnd(')').Split(',');
        return "#" + string.Concat(parts.Select(p => int.Parse(p.Trim(), CultureInfo.InvariantCulture).ToString("x2", CultureInfo.InvariantCulture)));
    }

    private static JsonObject French(string value) => new()
    {
        ["defaultValue"] = new JsonObject { ["language"] = "fr-FR", ["value"] = value },
    };
}
