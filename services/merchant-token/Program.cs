using Fidpass.MerchantToken;
using Fidpass.MerchantToken.Branding;
using Fidpass.MerchantToken.Credentials;
using Fidpass.MerchantToken.IntegrationKeys;
using Fidpass.MerchantToken.Internal;
using Fidpass.MerchantToken.Mail;
using Fidpass.MerchantToken.Merchants;
using Fidpass.MerchantToken.Sessions;
using Fidpass.ServiceDefaults;
using JasperFx;
using JasperFx.Events.Projections;

var builder = WebApplication.CreateBuilder(args);
builder.Host.ApplyJasperFxExtensions();

builder.AddServiceDefaults();
builder.AddFidpassMarten("merchant_token", opts =>
    {
        opts.Projections.Snapshot<Merchant>(SnapshotLifecycle.Inline);
        opts.Schema.For<Merchant>().UniqueIndex(m => m.Slug);
        opts.Schema.For<Credential>().Index(c => c.CredentialId).Index(c => c.MerchantId);
        opts.Events.AddEventTypes([.. MerchantRelay.RelayedEvents, typeof(IntegrationKeyIssued), typeof(SessionOpened)]);
    })
    .AddSubscriptionWithServices<MerchantRelay>(ServiceLifetime.Singleton, o =>
    {
        foreach (var type in MerchantRelay.RelayedEvents)
        {
            o.IncludeType(type);
        }
    });
builder.AddFidpassMessaging("merchant_token", bus => bus.AddConsumer<CardLinkMailConsumer>());
builder.Services.AddSingleton(TimeProvider.System);
builder.AddMail();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGroup("/api/v1")
    .WithRejections()
    .MapRegisterMerchantApi()
    .MapDashboardTokenApi()
    .MapIntegrationKeysApi()
    .MapSessionsApi()
    .MapBrandingApi();
app.MapInternalApi();
app.MapDevMailboxApi();

// Operator commands run with the pod's configuration (docs/operations.md, "Rebuild projections"):
// `fidpass-service projections list|rebuild …`; without arguments the service runs.
return await app.RunJasperFxCommands(args);
