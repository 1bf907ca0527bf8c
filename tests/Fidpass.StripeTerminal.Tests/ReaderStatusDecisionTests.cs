using Fidpass.StripeTerminal.Readers;

namespace Fidpass.StripeTerminal.Tests;

public sealed class ReaderStatusDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Merchant = Guid.Parse("6f1c3a52-0000-4000-8000-000000000001");

    private static ReaderObservation Seen(string? status, DateTimeOffset at, string? slug = "cafe-dupont") => new("tmr_1", Merchant, slug, status, at);

    private static ReaderState? Fold(ReaderState? state, IReadOnlyList<object> events) => events.Aggregate(state, (s, e) => (s, e) switch
    {
        (null, ReaderStatusRecorded r) => ReaderState.Create(r),
        ({ } x, ReaderStatusRecorded r) => x.Apply(r),
        ({ } x, ReaderStatusRemoved r) => x.Apply(r),
        _ => s,
    });

    [Fact]
    public void A_first_sighting_records_the_status()
    {
        var recorded = Assert.IsType<ReaderStatusRecorded>(Assert.Single(ReaderStatusDecisions.Observe(null, Seen("online", Now))));

        Assert.Equal((ReaderState.StreamId("tmr_1"), "tmr_1", Merchant, "cafe-dupont", "online"),
            (recorded.Id, recorded.ReaderId, recorded.MerchantId, recorded.MerchantSlug, recorded.Status));
    }

    [Fact]
    public void The_same_status_seen_again_records_nothing_and_a_change_records_one_event()
    {
        var online = Fold(null, ReaderStatusDecisions.Observe(null, Seen("online", Now)));

        Assert.Empty(ReaderStatusDecisions.Observe(online, Seen("online", Now.AddMinutes(1))));
        var offline = Assert.IsType<ReaderStatusRecorded>(Assert.Single(ReaderStatusDecisions.Observe(online, Seen("offline", Now.AddMinutes(2)))));
        Assert.Equal("offline", offline.Status);
    }

    [Fact]
    public void An_answer_read_before_the_last_change_is_ignored()
    {
        var offline = Fold(null, ReaderStatusDecisions.Observe(null, Seen("offline", Now)));

        Assert.Empty(ReaderStatusDecisions.Observe(offline, Seen("online", Now.AddSeconds(-1))));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("busy")]
    [InlineData("")]
    public void Only_Stripes_two_statuses_are_recorded(string? status) =>
        Assert.Empty(ReaderStatusDecisions.Observe(null, Seen(status, Now)));

    [Fact]
    public void A_sighting_without_a_slug_keeps_the_known_one()
    {
        var online = Fold(null, ReaderStatusDecisions.Observe(null, Seen("online", Now)));

        var offline = Fold(online, ReaderStatusDecisions.Observe(online, Seen("offline", Now.AddMinutes(1), slug: null)));

        Assert.Equal(("offline", "cafe-dupont"), (offline!.Status, offline.MerchantSlug));
    }

    [Fact]
    public void A_removed_reader_is_removed_once_and_then_ignored()
    {
        var online = Fold(null, ReaderStatusDecisions.Observe(null, Seen("online", Now)));

        var removed = Fold(online, ReaderStatusDecisions.Remove(online, Now.AddMinutes(1)));

        Assert.True(removed!.Removed);
        Assert.Empty(ReaderStatusDecisions.Remove(removed, Now.AddMinutes(2)));
        Assert.Empty(ReaderStatusDecisions.Observe(removed, Seen("offline", Now.AddMinutes(3))));
        Assert.Empty(ReaderStatusDecisions.Remove(null, Now));
    }
}
