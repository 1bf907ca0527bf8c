using MassTransit;
using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddFidpassMarten("stripe_terminal", _ => { });
builder.AddFidpassMessaging("stripe_terminal", bus => bus.AddConsumers(typeof(StripeTerminalApi).Assembly));

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
