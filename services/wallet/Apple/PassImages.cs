using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Fidpass.Wallet.Apple;

/// <summary>
/// The icon and logo every pass must carry, drawn here until merchants upload their own: a square in
/// the merchant's colour with a smaller square of its text colour. Encoded as a plain RGB PNG.
/// </summary>
public static class PassImages
{
    public static byte[] Square(int size, string background, string foreground)
    {
        var back = Parse(background);
        var front = Parse(foreground);
        var inset = size / 3;
        var raw = new byte[size * ((size * 3) + 1)];
        for (var y = 0; y < size; y++)
        {
            var row = y * ((size * 3) + 1);
            raw[row] = 0; // filter: none
            for (var x = 0; x < size; x++)
            {
                var inner = x >= inset && x < size - inset && y >= inset && y < size - inset;
                var color = inner ? front : back;
                raw[row + 1 + (x * 3)] = color.R;
                raw[row + 2 + (x * 3)] = color.G;
                raw[row + 3 + (x * 3)] = color.B;
            }
        }

        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, size);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), size);
        header[8] = 8; // bits per channel
        header[9] = 2; // RGB
        Chunk(png, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                zlib.Write(raw);
            }

            Chunk(png, "IDAT", compressed.ToArray());
        }

        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary><c>rgb(r, g, b)</c>, the only colour syntax pass.json accepts.</summary>
    public static (byte R, byte G, byte B) Parse(string rgb)
    {
        var parts = rgb.Trim().TrimStart("rgb(".ToCharArray()).TrimEnd(')').Split(',');
        return parts.Length == 3
            && byte.TryParse(parts[0].Trim(), CultureInfo.InvariantCulture, out var r)
            && byte.TryParse(parts[1].Trim(), CultureInfo.InvariantCulture, out var g)
            && byte.TryParse(parts[2].Trim(), CultureInfo.InvariantCulture, out var b)
            ? (r, g, b)
            : ((byte)0, (byte)0, (byte)0);
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typeAndData = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typeAndData);
        data.CopyTo(typeAndData, 4);
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
        png.Write(word);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
