using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal;
using Fidpass.StripeTerminal.Payments;
using Fidpass.StripeTerminal.Readers;
using Fidpass.StripeTerminal.Stripe;
using Fidpass.StripeTerminal.Webhooks;
using JasperFx;
using JasperFx.Events.Projections;
using MassTransit;

var builder = WebApplication.CreateBuilder(args);
builder.Host.ApplyJasperFxExtensions();

builder.AddServiceDefaults();
builder.AddStripe();
builder.AddFidpassMarten("stripe_terminal", opts =>
    {
        opts.Projections.Snapshot<CardPayment>(SnapshotLifecycle.Inline);
        opts.Projections.Snapshot<ReaderState>(SnapshotLifecycle.Inline);
        opts.Schema.For<CardPayment>().Index(p => p.PaymentIntentId!);
        opts.Schema.For<TerminalReader>().Index(r => r.MerchantId);
        opts.Schema.For<TerminalLocation>().Index(l => l.MerchantId);
        opts.Schema.For<TillReader>();
        opts.Schema.For<MerchantStripeAccount>();
        opts.Schema.For<ProcessedStripeEvent>();
        opts.Schema.For<SpentStripeKey>();
    })
    .AddSubscriptionWithServices<PaymentRelay>(ServiceLifetime.Singleton, o =>
    {
        o.IncludeType<CardPaymentSucceeded>();
        o.IncludeType<CardRefunded>();
        o.IncludeType<ReaderStatusRecorded>();
    });
builder.AddFidpassMessaging("stripe_terminal", bus =>
{
    bus.AddConsumers(typeof(StripeTerminalApi).Assembly);
    bus.AddMemberCheck(builder.Configuration);
});
builder.Services.AddSingleton<CardPayments>();
builder.Services.AddSingleton<ReaderStatuses>();
builder.Services.AddHostedService<ReaderStatusMonitor>();
if (builder.Configuration["Stripe:Follower"] is not "Disabled")
{
    builder.Services.AddHostedService<PaymentFollower>();
}

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapTerminalGroup().MapStripeAccountApi().MapReadersApi().MapReaderDisplayApi().MapPaymentsApi().MapDaySalesApi();
app.MapStripeWebhooks();

// Operator commands run with the pod's configuration (docs/operations.md, "Rebuild projections"):
// `fidpass-service projections list|rebuild …`; without arguments the service runs.
return await app.RunJasperFxCommands(args);
