using System.Buffers.Binary;
using System.Globalization;
using Fidpass.MerchantToken.Merchants;

namespace Fidpass.MerchantToken.Branding;

/// <summary>The merchant saved how the shop looks to customers (stream of the merchant). The logo is the PNG itself, base64.</summary>
public sealed record BrandingSet(Guid MerchantId, string Slug, string Name, string BackgroundColor, string ForegroundColor, string? LogoPngBase64, DateTimeOffset At);

/// <summary>The shop as customers see it; a merchant who never set it shows its account name in Fidpass's colours.</summary>
public sealed record ShopBranding(string Name, string BackgroundColor, string ForegroundColor, string? LogoPngBase64)
{
    public const string DefaultBackground = "#0B6E4F";

    public static ShopBranding Default(Merchant merchant) => new(merchant.Name, DefaultBackground, BrandingDecisions.ContrastingForeground(DefaultBackground), null);
}

/// <summary>
/// A save of the shop's look. An absent logo keeps the current one (unless <c>RemoveLogo</c>); an absent
/// foreground is black or white, whichever reads better on the background.
/// </summary>
public sealed record SetBrandingRequest(string? Name, string? BackgroundColor, string? ForegroundColor, string? LogoPngBase64, bool? RemoveLogo);

public static class BrandingDecisions
{
    public const int MaxNameLength = 60;
    public const int MaxLogoBytes = 64 * 1024;
    public const int MaxLogoSide = 2048;

    public static BrandingSet Decide(Merchant merchant, SetBrandingRequest request, DateTimeOffset now)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_SHOP_NAME", $"Le nom du commerce affiché aux clients est obligatoire ({MaxNameLength} caractères au plus).");
        }

        var background = Color(request.BackgroundColor, "INVALID_BACKGROUND_COLOR", "La couleur de fond doit être au format #RRGGBB, par exemple #0B6E4F.")
            ?? throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_BACKGROUND_COLOR", "La couleur de fond est obligatoire, au format #RRGGBB, par exemple #0B6E4F.");
        var foreground = Color(request.ForegroundColor, "INVALID_FOREGROUND_COLOR", "La couleur du texte doit être au format #RRGGBB, par exemple #FFFFFF.")
            ?? ContrastingForeground(background);

        var logo = merchant.Branding?.LogoPngBase64;
        if (!string.IsNullOrEmpty(request.LogoPngBase64))
        {
            logo = Convert.ToBase64String(Logo(request.LogoPngBase64));
        }
        else if (request.RemoveLogo == true)
        {
            logo = null;
        }

        return new BrandingSet(merchant.Id, merchant.Slug, name, background, foreground, logo, now);
    }

    /// <summary><c>#RRGGBB</c> in upper case; null when absent.</summary>
    private static string? Color(string? text, string code, string message)
    {
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return value.Length == 7 && value[0] == '#' && value[1..].All(char.IsAsciiHexDigit)
            ? value.ToUpperInvariant()
            : throw new Rejected(StatusCodes.Status400BadRequest, code, message);
    }

    /// <summary>Black or white, whichever has the higher WCAG contrast ratio with <paramref name="background"/>.</summary>
    public static string ContrastingForeground(string background)
    {
        var luminance = Luminance(background);
        return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000000" : "#FFFFFF";
    }

    private static double Luminance(string color)
    {
        double Channel(int offset)
        {
            var c = int.Parse(color.AsSpan(offset, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 255.0;
            return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }

        return (0.2126 * Channel(1)) + (0.7152 * Channel(3)) + (0.0722 * Channel(5));
    }

    /// <summary>The decoded logo, if it is a whole PNG of sane size; otherwise a 400 saying what is wrong.</summary>
    public static byte[] Logo(string base64)
    {
        if (base64.Length > ((MaxLogoBytes + 2) / 3 * 4) + 4)
        {
            throw LogoTooLarge();
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw InvalidLogo();
        }

        if (bytes.Length > MaxLogoBytes)
        {
            throw LogoTooLarge();
        }

        var (width, height) = Png.Dimensions(bytes) ?? throw InvalidLogo();
        return width is < 1 or > MaxLogoSide || height is < 1 or > MaxLogoSide
            ? throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_LOGO", $"Le logo doit mesurer au plus {MaxLogoSide} × {MaxLogoSide} pixels.")
            : bytes;
    }

    private static Rejected InvalidLogo() => new(StatusCodes.Status400BadRequest, "INVALID_LOGO", "Le logo doit être une image PNG valide.");

    private static Rejected LogoTooLarge() => new(StatusCodes.Status400BadRequest, "LOGO_TOO_LARGE", $"Le logo ne doit pas dépasser {MaxLogoBytes / 1024} Ko.");
}

/// <summary>Just enough of PNG to refuse what is not one: signature, every chunk whole with its CRC, IHDR first, IEND last.</summary>
public static class Png
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] CrcTable = [.. Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    })];

    public static (int Width, int Height)? Dimensions(ReadOnlySpan<byte> png)
    {
        if (png.Length < 8 + 25 + 12 || !png[..8].SequenceEqual(Signature))
        {
            return null;
        }

        (int, int)? size = null;
        var at = 8;
        while (at + 12 <= png.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[at..]);
            if (length > (uint)(png.Length - at - 12))
            {
                return null;
            }

            var typeAndData = png.Slice(at + 4, 4 + (int)length);
            if (BinaryPrimitives.ReadUInt32BigEndian(png[(at + 8 + (int)length)..]) != Crc(typeAndData))
            {
                return null;
            }

            var type = System.Text.Encoding.ASCII.GetString(typeAndData[..4]);
            if (at == 8)
            {
                if (type != "IHDR" || length != 13)
                {
                    return null;
                }

                size = ((int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(typeAndData[4..])),
                    (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(typeAndData[8..])));
            }

            at += 12 + (int)length;
            if (type == "IEND")
            {
                return at == png.Length ? size : null;
            }
        }

        return null;
    }

    private static uint Crc(ReadOnlySpan<byte> bytes)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return c ^ 0xFFFFFFFFu;
    }
}
