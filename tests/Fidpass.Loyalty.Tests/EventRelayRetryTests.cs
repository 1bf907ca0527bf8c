using System.Collections.Concurrent;
using Fidpass.ServiceDefaults;

namespace Fidpass.Loyalty.Tests;

/// <summary>
/// The relay's publish loop (every service's outbox): a stored event whose publish fails while the
/// broker is down is published again until confirmed, the others are not re-sent, and only the
/// service stopping ends the wait.
/// </summary>
public sealed class EventRelayRetryTests
{
    [Fact]
    public async Task A_failed_publish_is_retried_until_the_broker_confirms_it_and_the_others_are_sent_once()
    {
        var sent = new ConcurrentDictionary<string, int>();
        var delays = new List<int>();

        await EventRelay.PublishUntilConfirmedAsync(["credit-1", "credit-2", "credit-3"], item =>
        {
            var attempt = sent.AddOrUpdate(item, 1, (_, n) => n + 1);
            return item == "credit-2" && attempt <= 2
                ? Task.FromException(new InvalidOperationException("broker unreachable"))
                : Task.CompletedTask;
        }, attempt => { delays.Add(attempt); return TimeSpan.Zero; }, TestContext.Current.CancellationToken);

        Assert.Equal(1, sent["credit-1"]);
        Assert.Equal(3, sent["credit-2"]);
        Assert.Equal(1, sent["credit-3"]);
        Assert.Equal([1, 2], delays);
    }

    [Fact]
    public async Task While_the_broker_stays_down_the_relay_waits_and_only_stopping_the_service_ends_it()
    {
        using var stopping = new CancellationTokenSource();
        var attempts = 0;
        var relay = EventRelay.PublishUntilConfirmedAsync(["credit-1"], _ =>
        {
            if (Interlocked.Increment(ref attempts) == 5)
            {
                stopping.Cancel();
            }

            return Task.FromException(new InvalidOperationException("broker unreachable"));
        }, _ => TimeSpan.FromMilliseconds(1), stopping.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => relay);
        Assert.Equal(5, attempts);
    }

    [Fact]
    public void Retries_back_off_from_half_a_second_to_ten_seconds()
    {
        Assert.Equal([500, 1000, 2000, 4000, 8000, 10_000, 10_000], Enumerable.Range(1, 7).Select(a => EventRelay.RetryDelay(a).TotalMilliseconds));
    }
}
