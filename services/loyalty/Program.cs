using Fidpass.Loyalty;
using Fidpass.Loyalty.Adjustments;
using Fidpass.Loyalty.Cards;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Enrolment;
using Fidpass.Loyalty.Expiry;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Overview;
using Fidpass.Loyalty.Privacy;
using Fidpass.Loyalty.Programs;
using Fidpass.Loyalty.Redemptions;
using Fidpass.Loyalty.Relay;
using Fidpass.Loyalty.Reversals;
using Fidpass.ServiceDefaults;
using JasperFx;
using MassTransit;

var builder = WebApplication.CreateBuilder(args);
builder.Host.ApplyJasperFxExtensions();

builder.AddServiceDefaults();
builder.AddFidpassMarten("loyalty", LoyaltyStore.Configure)
    .AddSubscriptionWithServices<LoyaltyEventRelay>(ServiceLifetime.Singleton, o =>
    {
        foreach (var type in LoyaltyEventRelay.RelayedTypes)
        {
            o.IncludeType(type);
        }
    });
builder.Services.AddSingleton<CreditBatcher>();
builder.Services.AddHostedService(services => services.GetRequiredService<CreditBatcher>());
builder.AddFidpassMessaging("loyalty", bus => bus.AddConsumers(typeof(LoyaltyApi).Assembly));
builder.AddPointsExpiry();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapIntegrationApi();
app.MapEnrolmentApi();
app.MapProgramApi();
app.MapRewardsApi();
app.MapMembersApi();
app.MapLookupApi();
app.MapAdjustmentApi();
app.MapRedemptionApi();
app.MapReversalApi();
app.MapPrivacyApi();
app.MapDayTotalsApi();
app.MapPublicCardApi();

// Operator commands run with the pod's configuration (docs/operations.md, "Rebuild projections"):
// `fidpass-service projections list|rebuild …`; without arguments the service runs.
return await app.RunJasperFxCommands(args);
