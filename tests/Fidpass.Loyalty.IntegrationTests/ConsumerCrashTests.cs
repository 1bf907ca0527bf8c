using Fidpass.Contracts.Payments;
using Fidpass.Testing;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>
/// The consumer stored its credit, then the process "crashed" before acknowledging: the broker
/// delivers the message again. Simulated by a filter around the consumer that throws after the
/// first successful consumption, inside a retry, so the same message really runs twice.
/// </summary>
public sealed class ConsumerCrashTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class CrashAfterFirstConsumption : IFilter<ConsumeContext>
    {
        private int _deliveries;

        public int Deliveries => _deliveries;

        public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
        {
            var delivery = context.TryGetMessage<PaymentCollected>(out _) ? Interlocked.Increment(ref _deliveries) : 0;
            await next.Send(context);
            if (delivery == 1)
            {
                throw new InvalidOperationException("Simulated crash after storing, before acknowledging.");
            }
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("crash-after-first");
    }

    private sealed class CrashingEndpoints(CrashAfterFirstConsumption filter) : IConfigureReceiveEndpoint
    {
        public void Configure(string name, IReceiveEndpointConfigurator configurator)
        {
            configurator.UseMessageRetry(retry => retry.Immediate(3));
            configurator.UseFilter(filter);
        }
    }

    private sealed class CrashingHost(CrashAfterFirstConsumption filter) : ServiceHost<LoyaltyApi>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IConfigureReceiveEndpoint>(new CrashingEndpoints(filter)));
        }
    }

    [Fact]
    public async Task A_crash_between_storing_and_acknowledging_still_credits_once()
    {
        var filter = new CrashAfterFirstConsumption();
        await using var host = new CrashingHost(filter);
        host.WithInfrastructure(await TestServers.CreateDatabaseAsync("loyalty_crash"), await TestServers.CreateVirtualHostAsync("loyalty-crash"));
        await host.StartedAsync();
        var merchant = new TestMerchant(host, Guid.NewGuid(), "crash-shop");
        var member = await merchant.EnrolAsync();

        await host.Services.GetRequiredService<IBus>().Publish(new PaymentCollected(
            "pi_crash", merchant.Id, 4_200, "eur", PaymentMethod.Card, "tmr_1", member, null, DateTimeOffset.UtcNow), Ct);

        await Eventually.True(() => Task.FromResult(filter.Deliveries >= 2), what: "redelivered after the crash");
        await Eventually.Get(() => merchant.BalanceAsync(member), b => b == 42, what: "credited");
        Assert.Equal(42, await merchant.BalanceAsync(member));
    }
}
