using MassTransit;
using Fidpass.ServiceDefaults;
using Fidpass.CashlogyEdge;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddFidpassMarten("cashlogy_edge", _ => { });
builder.AddFidpassMessaging("cashlogy_edge", bus => bus.AddConsumers(typeof(CashlogyEdgeApi).Assembly));

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
