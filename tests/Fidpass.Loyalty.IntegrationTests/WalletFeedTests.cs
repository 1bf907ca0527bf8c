using System.Threading.Channels;
using MassTransit;
using LoyaltyContracts = Fidpass.Contracts.Loyalty;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>What the wallet service lives on: the member's first name at enrolment, and the erasure, both published by the relay.</summary>
public sealed class WalletFeedTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Enrolment_carries_the_first_name_only_and_an_erasure_is_published()
    {
        var merchant = fixture.NewMerchant();
        var enrolled = Channel.CreateUnbounded<LoyaltyContracts.MemberEnrolled>();
        var erased = Channel.CreateUnbounded<LoyaltyContracts.MemberErased>();
        var listener = MassTransit.Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(fixture.RabbitMq));
            bus.ReceiveEndpoint("test-wallet-feed-" + Guid.NewGuid().ToString("N"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<LoyaltyContracts.MemberEnrolled>(context => enrolled.Writer.WriteAsync(context.Message).AsTask());
                endpoint.Handler<LoyaltyContracts.MemberErased>(context => erased.Writer.WriteAsync(context.Message).AsTask());
            });
        });
        await listener.StartAsync(Ct);
        try
        {
            var member = await merchant.EnrolAsync("Jeanne Martin");
            var enrolment = await NextAbout(enrolled.Reader, m => m.MemberId == member);
            Assert.Equal("Jeanne", enrolment.FirstName);
            Assert.Equal(merchant.Id, enrolment.MerchantId);

            using (var manager = merchant.Client())
            {
                (await manager.DeleteAsync($"/api/v1/merchants/{merchant.Slug}/members/{member}", Ct)).EnsureSuccessStatusCode();
            }

            var erasure = await NextAbout(erased.Reader, m => m.MemberId == member);
            Assert.Equal(merchant.Id, erasure.MerchantId);
        }
        finally
        {
            await listener.StopAsync(Ct);
        }
    }

    private static async Task<T> NextAbout<T>(ChannelReader<T> reader, Func<T, bool> about)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        T message;
        do
        {
            message = await reader.ReadAsync(timeout.Token);
        }
        while (!about(message));

        return message;
    }
}
