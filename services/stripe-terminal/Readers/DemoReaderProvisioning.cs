using Fidpass.Contracts.Merchants;
using Fidpass.StripeTerminal.Stripe;
using Marten;
using MassTransit;
using Stripe;
using Stripe.Terminal;

namespace Fidpass.StripeTerminal.Readers;

/// <summary>
/// Offline demo (<c>./fidpass up</c> without a Stripe key): every new merchant gets a location and a
/// simulated WisePOS E on the fake Stripe, so the card flow works out of the box. Off as soon as a
/// real key is configured (<c>Stripe:DemoReaders</c> overrides). Redelivery-safe: deterministic
/// Stripe idempotency keys and a check for an existing reader.
/// </summary>
public sealed class DemoReaderProvisioning(
    IDocumentStore store, StripeClient stripe, ReaderStatuses statuses, IConfiguration configuration, TimeProvider clock)
    : IConsumer<MerchantRegistered>
{
    public async Task Consume(ConsumeContext<MerchantRegistered> context)
    {
        var enabled = configuration.GetValue<bool?>("Stripe:DemoReaders") ?? string.IsNullOrWhiteSpace(configuration["Stripe:SecretKey"]);
        var merchant = context.Message;
        if (!enabled)
        {
            return;
        }

        await using var session = store.LightweightSession();
        if (await session.Query<TerminalReader>().AnyAsync(r => r.MerchantId == merchant.MerchantId, context.CancellationToken))
        {
            return;
        }

        var location = await stripe.V1.Terminal.Locations.CreateAsync(
            new LocationCreateOptions
            {
                DisplayName = merchant.Name,
                Address = new AddressOptions { Line1 = "1 rue de la Démo", City = "Paris", PostalCode = "75001", Country = "FR" },
                Metadata = new Dictionary<string, string> { ["fidpass_merchant"] = merchant.MerchantId.ToString() },
            },
            StripeSetup.Call(null, $"demo-location:{merchant.MerchantId:N}"), context.CancellationToken);
        var reader = await stripe.V1.Terminal.Readers.CreateAsync(
            new ReaderCreateOptions { RegistrationCode = "simulated-wpe", Label = "Lecteur simulé", Location = location.Id },
            StripeSetup.Call(null, $"demo-reader:{merchant.MerchantId:N}"), context.CancellationToken);
        session.Store(new TerminalLocation(location.Id, merchant.MerchantId, location.DisplayName, clock.GetUtcNow()));
        var stored = new TerminalReader(
            reader.Id, merchant.MerchantId, reader.Label, location.Id, reader.DeviceType, reader.Status, reader.LastSeenAt, merchant.Slug);
        session.Store(stored);
        await session.SaveChangesAsync(context.CancellationToken);
        await statuses.ObserveAsync(stored, reader.Status, context.CancellationToken);
    }
}
