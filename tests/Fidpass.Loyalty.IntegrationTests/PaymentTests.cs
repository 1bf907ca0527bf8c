using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Fidpass.Contracts.Merchants;
using Fidpass.Contracts.Payments;
using Fidpass.Loyalty.Payments;
using Fidpass.Loyalty.Programs;
using Fidpass.Testing;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using LoyaltyContracts = Fidpass.Contracts.Loyalty;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>Payment-bound loyalty: messages on the fixture's own RabbitMQ virtual host.</summary>
public sealed class PaymentTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IBus Bus => fixture.Host.Services.GetRequiredService<IBus>();

    private static PaymentCollected Payment(TestMerchant merchant, Guid? member, long cents, string? basket = null, PaymentMethod method = PaymentMethod.Card) =>
        new("pi_" + Guid.NewGuid().ToString("N"), merchant.Id, cents, "eur", method, "tmr_test", member, basket, DateTimeOffset.UtcNow);

    private static PaymentRefunded Refund(PaymentCollected payment, long cents) =>
        new("re_" + Guid.NewGuid().ToString("N"), payment.PaymentId, payment.MerchantId, cents, "eur", DateTimeOffset.UtcNow);

    private static Task<long> BalanceBecomes(TestMerchant merchant, Guid member, long expected) =>
        Eventually.Get(() => merchant.BalanceAsync(member), b => b == expected, what: $"balance {expected}");

    /// <summary>Loyalty has consumed the payment (credited or not): its record is stored.</summary>
    private Task Consumed(PaymentCollected payment) => Eventually.True(async () =>
    {
        await using var session = fixture.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return await session.LoadAsync<PaymentRecord>(PaymentRecord.DocumentId(payment.MerchantId, payment.PaymentId), Ct) is not null;
    }, what: $"payment {payment.PaymentId} consumed");

    private Task Consumed(PaymentRefunded refund) => Eventually.True(async () =>
    {
        await using var session = fixture.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return await session.LoadAsync<RefundRecord>(RefundRecord.DocumentId(refund.MerchantId, refund.RefundId), Ct) is not null;
    }, what: $"refund {refund.RefundId} consumed");

    [Fact]
    public async Task A_payment_published_three_times_credits_once()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        var payment = Payment(merchant, member, 2_390);

        await Task.WhenAll(Bus.Publish(payment, Ct), Bus.Publish(payment, Ct), Bus.Publish(payment, Ct));
        await BalanceBecomes(merchant, member, 23);

        var later = Payment(merchant, member, 1_000);
        await Bus.Publish(later, Ct);
        await Bus.Publish(payment, Ct);
        await BalanceBecomes(merchant, member, 33);
        await Consumed(later);
        Assert.Equal(33, await merchant.BalanceAsync(member));
    }

    [Fact]
    public async Task A_payment_without_a_member_or_with_another_merchants_member_credits_nothing()
    {
        var merchant = fixture.NewMerchant();
        var other = fixture.NewMerchant();
        var foreign = await other.EnrolAsync();
        var mine = await merchant.EnrolAsync();

        var anonymous = Payment(merchant, null, 5_000);
        var stolen = Payment(merchant, foreign, 5_000);
        var dollars = Payment(merchant, mine, 5_000) with { Currency = "usd" };
        var absurd = Payment(merchant, mine, long.MaxValue);
        foreach (var payment in new[] { anonymous, stolen, dollars, absurd })
        {
            await Bus.Publish(payment, Ct);
        }

        foreach (var payment in new[] { anonymous, stolen, dollars, absurd })
        {
            await Consumed(payment);
        }

        Assert.Equal(0, await other.BalanceAsync(foreign));
        Assert.Equal(0, await merchant.BalanceAsync(mine));
    }

    [Fact]
    public async Task Refunds_take_back_points_in_proportion_once_each_and_never_more_than_credited()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        var payment = Payment(merchant, member, 1_000);
        await Bus.Publish(payment, Ct);
        await BalanceBecomes(merchant, member, 10);

        var partial = Refund(payment, 333);
        await Bus.Publish(partial, Ct);
        await Bus.Publish(partial, Ct);
        await BalanceBecomes(merchant, member, 7); // floor(10 × 3.33 / 10) = 3 taken back
        await Consumed(partial);

        var rest = Refund(payment, 667);
        var tooMuch = Refund(payment, 500);
        await Bus.Publish(rest, Ct);
        await BalanceBecomes(merchant, member, 0);
        await Bus.Publish(tooMuch, Ct);
        await Consumed(tooMuch);
        Assert.Equal(0, await merchant.BalanceAsync(member));
    }

    [Fact]
    public async Task The_merchant_can_reverse_a_payments_points_by_its_payment_id()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        var payment = Payment(merchant, member, 1_800);
        await Bus.Publish(payment, Ct);
        await BalanceBecomes(merchant, member, 18);
        using var client = merchant.Client(Fidpass.ServiceDefaults.GatewayIdentity.IntegrationKey, "members");

        var reversal = await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/operations/{payment.PaymentId}/reversal", null, Ct);

        Assert.Equal(System.Net.HttpStatusCode.OK, reversal.StatusCode);
        Assert.Equal(18, (await reversal.BodyAsync()).GetProperty("pointsReversed").GetInt64());
        Assert.Equal(0, await merchant.BalanceAsync(member));
        var other = fixture.NewMerchant();
        using var otherClient = other.Client();
        var foreign = await otherClient.PostAsync($"/api/v1/merchants/{other.Slug}/operations/{Fidpass.Loyalty.Members.Uuid.ForPayment(payment.PaymentId)}/reversal", null, Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, foreign.StatusCode);
    }

    [Fact]
    public async Task A_card_and_cash_split_counts_as_one_purchase_for_the_minimum()
    {
        var merchant = fixture.NewMerchant();
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 2, minAmountEur = 10 });
        var member = await merchant.EnrolAsync();
        var basket = "till-3-ticket-" + Guid.NewGuid().ToString("N");

        var card = Payment(merchant, member, 650, basket);
        await Bus.Publish(card, Ct);
        await Consumed(card);
        Assert.Equal(0, await merchant.BalanceAsync(member)); // 6,50 € alone is under the minimum

        var cash = Payment(merchant, null, 480, basket, PaymentMethod.Cash);
        await Bus.Publish(cash, Ct);
        await Bus.Publish(cash, Ct);
        await BalanceBecomes(merchant, member, 13); // floor(11,30 €) + 2 for the visit, once

        var tip = Payment(merchant, null, 90, basket, PaymentMethod.Cash);
        await Bus.Publish(tip, Ct);
        await BalanceBecomes(merchant, member, 14); // 12,20 € in total: one more point, no second visit
    }

    [Fact]
    public async Task Parts_of_split_baskets_consumed_at_the_same_time_are_all_counted()
    {
        var merchant = fixture.NewMerchant();
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, minAmountEur = 10 });
        var member = await merchant.EnrolAsync();
        var parts = Enumerable.Range(0, 5).SelectMany(i =>
        {
            var basket = $"ticket-{i}-{Guid.NewGuid():N}";
            return new[] { Payment(merchant, member, 600, basket), Payment(merchant, null, 500, basket, PaymentMethod.Cash) };
        }).ToArray();

        await Task.WhenAll(parts.Select(p => Bus.Publish(p, Ct)));

        await BalanceBecomes(merchant, member, 55); // five purchases of 11,00 €, each over the minimum only as a whole
    }

    [Fact]
    public async Task A_split_basket_refund_reverses_the_combined_credit_proportionally()
    {
        var merchant = fixture.NewMerchant();
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 10, pointsPerVisit = 0, minAmountEur = 20 });
        var member = await merchant.EnrolAsync();
        var basket = "split-" + Guid.NewGuid().ToString("N");
        var card = Payment(merchant, member, 1_500, basket);
        var cash = Payment(merchant, null, 1_500, basket, PaymentMethod.Cash);
        await Bus.Publish(card, Ct);
        await Consumed(card);
        await Bus.Publish(cash, Ct);
        await BalanceBecomes(merchant, member, 300);

        await Bus.Publish(Refund(card, 1_500), Ct); // half of the purchase
        await BalanceBecomes(merchant, member, 150);
    }

    [Fact]
    public async Task A_registered_merchant_gets_the_default_program_once()
    {
        var merchant = fixture.NewMerchant();
        var registered = new MerchantRegistered(merchant.Id, merchant.Slug, "Café Test", "cafe@example.fr", DateTimeOffset.UtcNow);
        await Bus.Publish(registered, Ct);
        await Eventually.True(async () =>
        {
            await using var session = fixture.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
            return await session.LoadAsync<LoyaltyProgram>(merchant.Id, Ct) is not null;
        }, what: "default program created");

        await merchant.PutProgramAsync(new { type = "stamps", pointsPerEuro = 0, pointsPerVisit = 1 });
        await Bus.Publish(registered, Ct);
        await Bus.Publish(new MerchantRegistered(Guid.NewGuid(), "other", "Autre", "autre@example.fr", DateTimeOffset.UtcNow), Ct);

        using var client = merchant.Client();
        // A redelivered registration never resets the merchant's own rules.
        var program = await Eventually.Get(
            () => client.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/program", Ct),
            p => p.GetProperty("type").GetString() == "stamps", what: "program kept");
        Assert.Equal(1, program.GetProperty("pointsPerVisit").GetInt64());
    }

    [Fact]
    public async Task A_refund_is_published_as_PointsReversed()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        var received = Channel.CreateUnbounded<LoyaltyContracts.PointsReversed>();
        var listener = MassTransit.Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(fixture.RabbitMq));
            bus.ReceiveEndpoint("test-points-reversed-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<LoyaltyContracts.PointsReversed>(context => received.Writer.WriteAsync(context.Message).AsTask());
            });
        });
        await listener.StartAsync(Ct);
        try
        {
            var payment = Payment(merchant, member, 2_000);
            await Bus.Publish(payment, Ct);
            await BalanceBecomes(merchant, member, 20);
            var refund = Refund(payment, 500);
            await Bus.Publish(refund, Ct);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            LoyaltyContracts.PointsReversed message;
            do
            {
                message = await received.Reader.ReadAsync(timeout.Token);
            }
            while (message.MemberId != member);

            Assert.Equal(5, message.Points);
            Assert.Equal(15, message.NewBalance);
            Assert.Equal(refund.RefundId, message.RefundId);
            Assert.Equal(Fidpass.Loyalty.Members.Uuid.ForPayment(payment.PaymentId), message.ReversedOperationId);
        }
        finally
        {
            await listener.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task A_scan_is_published_as_PointsCredited_on_the_bus()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        var received = Channel.CreateUnbounded<LoyaltyContracts.PointsCredited>();
        var listener = MassTransit.Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(fixture.RabbitMq));
            bus.ReceiveEndpoint("test-points-credited-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<LoyaltyContracts.PointsCredited>(context => received.Writer.WriteAsync(context.Message).AsTask());
            });
        });
        await listener.StartAsync(Ct);
        try
        {
            var scan = await (await merchant.ScanAsync($$"""{"barcode":"{{member}}","amount_eur":"4.20","visit":true}""")).BodyAsync();

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            LoyaltyContracts.PointsCredited message;
            do
            {
                message = await received.Reader.ReadAsync(timeout.Token);
            }
            while (message.MemberId != member);

            Assert.Equal(merchant.Id, message.MerchantId);
            Assert.Equal(4, message.Points);
            Assert.Equal(scan.GetProperty("new_balance").GetInt64(), message.NewBalance);
            Assert.Equal(LoyaltyContracts.PointsSource.Integration, message.Source);
        }
        finally
        {
            await listener.StopAsync(Ct);
        }
    }
}
