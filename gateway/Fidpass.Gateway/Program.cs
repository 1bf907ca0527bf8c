using Fidpass.Gateway.Authentication;
using Fidpass.Gateway.Docs;
using Fidpass.Gateway.Protection;
using Fidpass.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(usesPostgres: false);
builder.AddFidpassMessaging("gateway", bus =>
    // Temporary and per instance: every replica gets its own copy of each revocation.
    bus.AddConsumer<CredentialRevokedConsumer>().Endpoint(e =>
    {
        e.Temporary = true;
        e.InstanceId = $"{Environment.MachineName}-{Guid.NewGuid():N}"[..Math.Min(Environment.MachineName.Length + 13, 60)];
    }));
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<CredentialIntrospector>();
builder.Services.AddHttpClient(CredentialIntrospector.HttpClientName, (services, http) =>
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        http.BaseAddress = new Uri(configuration["Gateway:MerchantTokenAddress"]
            ?? configuration["ReverseProxy:Clusters:merchant-token:Destinations:primary:Address"]
            ?? "http://127.0.0.1:5101");
        http.Timeout = TimeSpan.FromSeconds(5);
    });
builder.Services.AddHttpClient(ApiDocs.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(15));
builder.Services.AddTrustedProxies(builder.Configuration);
builder.Services.AddGatewayRateLimits(builder.Configuration);
builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
    .WithOrigins(builder.Configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? [])
    .AllowAnyHeader()
    .AllowAnyMethod()
    .WithExposedHeaders("Retry-After")));

var app = builder.Build();

app.UseForwardedHeaders();

if (!app.Environment.IsDevelopment())
{
    app.UseHsts();
}

app.UseMiddleware<Hardening>();
app.UseCors();
app.UseRateLimiter();
app.UseMiddleware<GatewayAuthentication>();
app.MapDefaultEndpoints(guardRequests: false);
app.MapApiDocs();
app.MapReverseProxy();

app.Run();
