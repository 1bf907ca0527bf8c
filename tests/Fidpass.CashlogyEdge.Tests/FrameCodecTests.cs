using System.Text;
using Fidpass.CashlogyEdge.Protocol;

namespace Fidpass.CashlogyEdge.Tests;

public sealed class FrameCodecTests
{
    [Fact]
    public void A_charge_is_framed_as_the_Connector_expects()
    {
        var frame = FrameCodec.Format("C", "1", "TPV", "990", "0", "0", "0", "0", "0", "1", "0", "0");

        Assert.Equal("#C#1#TPV#990#0#0#0#0#0#1#0#0#", frame);
        Assert.Equal("#I#", FrameCodec.Format("I"));
        Assert.Equal("#Q#", Encoding.Latin1.GetString(FrameCodec.Encode("Q")));
    }

    [Fact]
    public void A_parameter_containing_a_hash_is_refused_instead_of_shifting_every_field()
    {
        Assert.Throws<ArgumentException>(() => FrameCodec.Format("C", "ticket#2", "1", "990"));
    }

    [Fact]
    public void A_reply_split_across_packets_is_complete_only_when_its_arity_is_reached()
    {
        var assembler = new FrameAssembler();

        assembler.Append(Encoding.Latin1.GetBytes("#WR:LEV"));
        Assert.Equal(DecodeStatus.Incomplete, assembler.TryTake(CommandCatalog.Charge, quiet: false).Status);
        assembler.Append(Encoding.Latin1.GetBytes("EL#2000#10"));
        Assert.Equal(DecodeStatus.Incomplete, assembler.TryTake(CommandCatalog.Charge, quiet: false).Status);
        assembler.Append(Encoding.Latin1.GetBytes("10#0#0#"));
        var result = assembler.TryTake(CommandCatalog.Charge, quiet: false);

        Assert.Equal(DecodeStatus.Complete, result.Status);
        Assert.Equal(new ChargeFigures(2000, 1010, 0, 0), ChargeFigures.From(result.Reply!));
        Assert.Equal("", assembler.Pending);
    }

    [Fact]
    public void A_short_error_reply_is_taken_only_after_the_line_went_quiet()
    {
        var assembler = new FrameAssembler();
        assembler.Append(Encoding.Latin1.GetBytes("#ER:BUSY#"));

        Assert.Equal(DecodeStatus.Incomplete, assembler.TryTake(CommandCatalog.Charge, quiet: false).Status);
        var result = assembler.TryTake(CommandCatalog.Charge, quiet: true);

        Assert.Equal(DecodeStatus.Complete, result.Status);
        Assert.Equal(CashlogyReply.Busy, result.Reply!.Code);
        Assert.True(result.Reply.IsRejection);
        Assert.Equal(0, result.Reply.Cents(0));
    }

    [Fact]
    public void A_short_success_reply_never_completes_a_command_that_owes_more_values()
    {
        var assembler = new FrameAssembler();
        assembler.Append(Encoding.Latin1.GetBytes("#0#"));

        Assert.NotEqual(DecodeStatus.Complete, assembler.TryTake(CommandCatalog.Charge, quiet: true).Status);
    }

    [Fact]
    public void A_stale_init_reply_before_the_charge_reply_is_dropped_as_the_Delphi_client_does()
    {
        var result = FrameCodec.TryDecode("#0#2.5#" + "#WR:LEVEL#500#140#0#0#", CommandCatalog.Charge, quiet: false);

        Assert.Equal(DecodeStatus.Complete, result.Status);
        Assert.Equal("WR:LEVEL", result.Reply!.Code);
        Assert.Equal(360, ChargeFigures.From(result.Reply).Net);
        Assert.StartsWith("#0#2.5#", result.Skipped, StringComparison.Ordinal);
    }

    [Fact]
    public void The_stray_reply_of_a_cancel_does_not_become_the_charge_outcome()
    {
        var result = FrameCodec.TryDecode("#0#" + "#WR:CANCEL#1800#1800#0#0#", CommandCatalog.Charge, quiet: false);

        Assert.Equal(DecodeStatus.Complete, result.Status);
        Assert.Equal("#WR:CANCEL#1800#1800#0#0#", result.Reply!.ToFrame());
    }

    [Fact]
    public void Leading_CRLF_and_noise_are_skipped()
    {
        var result = FrameCodec.TryDecode("\r\n#0#2.01#", CommandCatalog.Initialize, quiet: false);

        Assert.Equal(DecodeStatus.Complete, result.Status);
        Assert.Equal("2.01", result.Reply!.Text(0));
    }

    [Fact]
    public void Error_details_are_read_as_Latin1_with_their_accents()
    {
        var bytes = Encoding.Latin1.GetBytes("#0#1131|2|Porte du lecteur de billets ouverte|Fermez la porte.|||#6120|0|Monnaie insuffisante|Pas assez de pièces.|||#");
        var assembler = new FrameAssembler();
        assembler.Append(bytes);

        var reply = assembler.TryTake(CommandCatalog.ErrorDetails(2), quiet: false).Reply!;
        var errors = reply.Values.Select(DeviceError.Parse).ToList();

        Assert.Equal("1131", errors[0].Code);
        Assert.False(errors[0].IsWarning);
        Assert.True(errors[1].IsWarning);
        Assert.Equal("Pas assez de pièces.", errors[1].Message);
    }

    [Fact]
    public void Current_error_codes_are_a_comma_list_and_empty_when_none()
    {
        Assert.Empty(DeviceError.ParseCodes(""));
        Assert.Equal(["1131", "1313"], DeviceError.ParseCodes("1131,1313"));
    }
}
