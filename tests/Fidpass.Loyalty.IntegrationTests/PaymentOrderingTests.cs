using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Contracts.Payments;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Payments;
using Fidpass.Testing;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>
/// The facts of one card payment (collected, refunded in part, refunded again) reach loyalty in any
/// order and any number of times (Stripe reads failing while the card is presented and refunded makes
/// the refund come first): every order ends in the same balance, credit and totals.
/// </summary>
public sealed class PaymentOrderingTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IBus Bus => fixture.Host.Services.GetRequiredService<IBus>();

    // 10 points per euro: 10,00 € earn 100 points; 2,50 € then 3,30 € refunded take back 58.
    private const long Collected = 1_000, FirstRefund = 250, SecondRefund = 330, PointsLeft = 42, PointsReversed = 58;

    private sealed record Facts(PaymentCollected Success, PaymentRefunded First, PaymentRefunded Second)
    {
        public object this[char fact] => fact switch { 'S' => Success, 'A' => First, _ => Second };
    }

    private static Facts NewFacts(Guid merchantId, Guid member)
    {
        var paymentId = "pi_" + Guid.NewGuid().ToString("N");
        var at = DateTimeOffset.UtcNow;
        return new Facts(
            new PaymentCollected(paymentId, merchantId, Collected, "eur", PaymentMethod.Card, "tmr_test", member, null, at),
            new PaymentRefunded("re_" + Guid.NewGuid().ToString("N"), paymentId, merchantId, FirstRefund, "eur", at.AddSeconds(1)),
            new PaymentRefunded("re_" + Guid.NewGuid().ToString("N"), paymentId, merchantId, SecondRefund, "eur", at.AddSeconds(2)));
    }

    /// <summary>Every distinct order of S, A, B each delivered twice: 6! / (2! 2! 2!) = 90.</summary>
    private static IEnumerable<string> Orders(string left) =>
        left.Length == 0 ? [""]
        : left.Distinct().SelectMany(c => Orders(left.Remove(left.IndexOf(c), 1)).Select(rest => c + rest));

    [Fact]
    public async Task Every_order_of_success_two_partial_refunds_and_their_duplicates_ends_in_the_same_state()
    {
        var merchant = fixture.NewMerchant();
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 10, pointsPerVisit = 0, minAmountEur = 0 });
        var orders = Orders("SSAABB").ToList();
        Assert.Equal(90, orders.Count);
        var handled = new ConcurrentDictionary<Guid, TaskCompletionSource>();
        using var observer = Bus.ConnectConsumeObserver(new Handled(handled));

        // Each order is delivered one message at a time (the next once the previous is consumed); orders run side by side.
        var runs = await Task.WhenAll(orders.Select(async order =>
        {
            var member = await merchant.EnrolAsync();
            var facts = NewFacts(merchant.Id, member);
            foreach (var fact in order)
            {
                var messageId = NewId.NextGuid();
                var done = handled.GetOrAdd(messageId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                await Bus.Publish(facts[fact], context => context.MessageId = messageId, Ct);
                await done.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            }

            return (order, member, facts);
        }));

        await using var session = fixture.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        foreach (var (order, member, facts) in runs)
        {
            var credit = await session.LoadAsync<OperationRecord>(Uuid.ForPayment(facts.Success.PaymentId), Ct);
            var payment = await session.LoadAsync<PaymentRecord>(PaymentRecord.DocumentId(merchant.Id, facts.Success.PaymentId), Ct);
            var refunds = await session.LoadManyAsync<RefundRecord>(Ct,
                RefundRecord.DocumentId(merchant.Id, facts.First.RefundId), RefundRecord.DocumentId(merchant.Id, facts.Second.RefundId));
            var state = (
                Balance: await merchant.BalanceAsync(member),
                Points: credit?.Points, credit?.ReversedPoints, credit?.RefundedCents,
                Awaiting: payment?.RefundsBeforeCollection is not null,
                Refunds: string.Join(",", refunds.Select(r => $"{r.AmountCents}/{r.Method}").Order()));
            Assert.True(
                (PointsLeft, 100L, PointsReversed, FirstRefund + SecondRefund, false, "250/card,330/card") == state,
                $"order {order}: {state}");
        }

        // What the day counts: one payment and two refunds per order, whichever came first.
        using var client = merchant.Client(scopes: "members");
        var day = await client.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/day-totals", Ct);
        Assert.Equal(90, day.GetProperty("payments").GetProperty("count").GetInt64());
        Assert.Equal(90 * Collected, day.GetProperty("payments").GetProperty("amountCents").GetInt64());
        Assert.Equal(180, day.GetProperty("refunds").GetProperty("count").GetInt64());
        Assert.Equal(90 * (FirstRefund + SecondRefund), day.GetProperty("refunds").GetProperty("amountCents").GetInt64());
    }

    [Fact]
    public async Task The_facts_of_a_payment_delivered_all_at_once_twice_end_in_the_same_balance()
    {
        var merchant = fixture.NewMerchant();
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 10, pointsPerVisit = 0, minAmountEur = 0 });
        var members = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => merchant.EnrolAsync()));
        var facts = members.Select(m => NewFacts(merchant.Id, m)).ToList();

        await Task.WhenAll(facts.SelectMany(f => "BASABS".Select(c => Bus.Publish(f[c], Ct))));

        foreach (var member in members)
        {
            await Eventually.Get(() => merchant.BalanceAsync(member), b => b == PointsLeft, what: $"balance {PointsLeft}");
        }

        await using var session = fixture.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        foreach (var f in facts)
        {
            var credit = await Eventually.Get(() => session.LoadAsync<OperationRecord>(Uuid.ForPayment(f.Success.PaymentId), Ct),
                c => c?.RefundedCents == FirstRefund + SecondRefund, what: "both refunds applied");
            Assert.Equal(PointsReversed, credit!.ReversedPoints);
        }
    }

    /// <summary>Completes a message's wait once loyalty consumed it, or gave up on it (a fault is an end too).</summary>
    private sealed class Handled(ConcurrentDictionary<Guid, TaskCompletionSource> waits) : IConsumeObserver
    {
        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Done(context);

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Done(context);

        private Task Done(ConsumeContext context)
        {
            if (context.MessageId is { } id)
            {
                waits.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }

            return Task.CompletedTask;
        }
    }
}
