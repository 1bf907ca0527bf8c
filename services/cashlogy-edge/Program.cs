using Fidpass.CashlogyEdge;
using Fidpass.CashlogyEdge.Machines;
using Fidpass.CashlogyEdge.Operations;
using Fidpass.CashlogyEdge.Relay;
using Fidpass.CashlogyEdge.Sessions;
using Fidpass.ServiceDefaults;
using JasperFx;
using JasperFx.Events.Projections;
using MassTransit;

var builder = WebApplication.CreateBuilder(args);
builder.Host.ApplyJasperFxExtensions();

builder.AddServiceDefaults();
builder.AddFidpassMarten("cashlogy_edge", opts =>
    {
        opts.Schema.For<Machine>().Index(m => m.MerchantId);
        opts.Schema.For<MachineCash>();
        opts.Projections.Snapshot<CashOperation>(SnapshotLifecycle.Inline);
        opts.Schema.For<CashOperation>().Index(o => o.MachineId).Index(o => o.SaleOperationId);
    })
    .AddSubscriptionWithServices<CashEventRelay>(ServiceLifetime.Singleton, o =>
    {
        o.IncludeType<CashOperationSettled>();
        o.IncludeType<MachineStatusChanged>();
    });
builder.AddFidpassMessaging("cashlogy_edge", bus =>
{
    bus.AddConsumers(typeof(CashlogyEdgeApi).Assembly);
    bus.AddMemberCheck(builder.Configuration);
});
builder.Services.AddSingleton(MachineNetworks.From(builder.Configuration));
builder.Services.AddSingleton<MachineSessions>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<MachineSessions>());
builder.Services.AddSingleton<OperationRunner>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapMachinesApi();
app.MapOperationsApi();
app.MapMachineCashApi();
app.MapDaySalesApi();

// Operator commands run with the pod's configuration (docs/operations.md, "Rebuild projections"):
// `fidpass-service projections list|rebuild …`; without arguments the service runs.
return await app.RunJasperFxCommands(args);
