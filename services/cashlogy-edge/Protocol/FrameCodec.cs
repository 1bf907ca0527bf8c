using System.Globalization;
using System.Text;

namespace Fidpass.CashlogyEdge.Protocol;

/// <summary>
/// Builds and reassembles CashlogyConnector frames: <c>#CMD#p1#…#</c> requests and
/// <c>#CODE#v1#…#</c> replies, Latin-1, no length prefix and no terminator (spec 2.2).
/// </summary>
public static class FrameCodec
{
    public static readonly Encoding Latin1 = Encoding.Latin1;

    public static string Format(string command, params IReadOnlyList<string> parameters)
    {
        var builder = new StringBuilder().Append('#').Append(command).Append('#');
        foreach (var parameter in parameters)
        {
            // A '#' inside a parameter would shift every following field: refuse it rather than send a different command.
            if (parameter.Contains('#', StringComparison.Ordinal))
            {
                throw new ArgumentException($"A parameter of #{command}# contains '#'.", nameof(parameters));
            }

            builder.Append(parameter).Append('#');
        }

        return builder.ToString();
    }

    public static byte[] Encode(string command, params IReadOnlyList<string> parameters) =>
        Latin1.GetBytes(Format(command, parameters));

    public static bool IsResultCode(string field) =>
        field == "0" || (field.Length > 3 && (field.StartsWith("WR:", StringComparison.Ordinal) || field.StartsWith("ER:", StringComparison.Ordinal)));

    /// <summary>
    /// Tries to take the reply to <paramref name="spec"/> from the start of <paramref name="buffer"/>.
    /// A success reply is complete when its arity is reached; a warning or error reply may be short
    /// (<c>#ER:BUSY#</c>), so it is taken once the line has been <paramref name="quiet"/>. Bytes before
    /// the first frame that fits (CRLF, a stale reply to an earlier command, a stray <c>#0#</c> after a
    /// cancel) are skipped and returned in <see cref="DecodeResult.Skipped"/>.
    /// </summary>
    public static DecodeResult TryDecode(string buffer, CommandSpec spec, bool quiet)
    {
        var start = buffer.IndexOf('#', StringComparison.Ordinal);
        while (start >= 0)
        {
            var attempt = TryDecodeAt(buffer, start, spec, quiet);
            if (attempt.Status == DecodeStatus.Incomplete)
            {
                return new DecodeResult(DecodeStatus.Incomplete, null, start, buffer[..start]);
            }

            if (attempt.Status == DecodeStatus.Complete)
            {
                return attempt with { Skipped = buffer[..start] };
            }

            start = buffer.IndexOf('#', start + 1);
        }

        return new DecodeResult(DecodeStatus.Incomplete, null, buffer.Length, buffer);
    }

    private static DecodeResult TryDecodeAt(string buffer, int start, CommandSpec spec, bool quiet)
    {
        var fields = new List<string>();
        var position = start + 1;
        while (fields.Count < spec.Arity + 1)
        {
            var end = buffer.IndexOf('#', position);
            if (end < 0)
            {
                break;
            }

            fields.Add(buffer[position..end]);
            position = end + 1;
        }

        if (fields.Count == 0)
        {
            return new DecodeResult(DecodeStatus.Incomplete, null, start, "");
        }

        if (!IsResultCode(fields[0]))
        {
            return new DecodeResult(DecodeStatus.Invalid, null, start, "");
        }

        var values = fields.Skip(1).ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            if (spec.Values[i] == ValueKind.Cents && !long.TryParse(values[i], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return new DecodeResult(DecodeStatus.Invalid, null, start, "");
            }
        }

        var complete = fields.Count == spec.Arity + 1;
        if (complete)
        {
            return new DecodeResult(DecodeStatus.Complete, new CashlogyReply(fields[0], values), position, "");
        }

        // Fewer fields than the arity: only a warning/error reply may be short, and only once the line is quiet.
        if (quiet && fields[0] != "0" && position == buffer.Length)
        {
            return new DecodeResult(DecodeStatus.Complete, new CashlogyReply(fields[0], values), position, "");
        }

        if (quiet && fields[0] == "0" && position == buffer.Length)
        {
            return new DecodeResult(DecodeStatus.Invalid, null, start, "");
        }

        return new DecodeResult(DecodeStatus.Incomplete, null, start, "");
    }
}

public enum DecodeStatus
{
    Incomplete,
    Complete,
    Invalid,
}

/// <summary>Outcome of a decode attempt; <c>Consumed</c> counts the characters used up (skipped bytes and the reply).</summary>
public sealed record DecodeResult(DecodeStatus Status, CashlogyReply? Reply, int Consumed, string Skipped);

/// <summary>Accumulates received bytes (Latin-1) until the reply to the pending command is complete.</summary>
public sealed class FrameAssembler
{
    private readonly StringBuilder _buffer = new();

    public string Pending => _buffer.ToString();

    public void Append(ReadOnlySpan<byte> bytes) => _buffer.Append(FrameCodec.Latin1.GetString(bytes));

    /// <summary>Drops whatever arrived before a new command is sent: it can only be a stale reply.</summary>
    public string DiscardStale()
    {
        var stale = _buffer.ToString();
        _buffer.Clear();
        return stale;
    }

    public DecodeResult TryTake(CommandSpec spec, bool quiet)
    {
        var result = FrameCodec.TryDecode(_buffer.ToString(), spec, quiet);
        if (result.Status == DecodeStatus.Complete)
        {
            _buffer.Remove(0, result.Consumed);
        }

        return result;
    }
}
