using MassTransit;
using Fidpass.ServiceDefaults;
using Fidpass.Loyalty;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddFidpassMarten("loyalty", _ => { });
builder.AddFidpassMessaging("loyalty", bus => bus.AddConsumers(typeof(LoyaltyApi).Assembly));

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
