using MassTransit;
using Fidpass.ServiceDefaults;
using Fidpass.MerchantToken;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddFidpassMarten("merchant_token", _ => { });
builder.AddFidpassMessaging("merchant_token", bus => bus.AddConsumers(typeof(MerchantTokenApi).Assembly));

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
