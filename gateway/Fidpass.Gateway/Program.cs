using MassTransit;
using Fidpass.Gateway;
using Fidpass.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(usesPostgres: false);
builder.AddFidpassMessaging("gateway", bus => bus.AddConsumers(typeof(GatewayApp).Assembly));
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapReverseProxy();

app.Run();
