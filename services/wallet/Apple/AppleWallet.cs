using System.Net;

namespace Fidpass.Wallet.Apple;

public static class AppleWallet
{
    /// <summary>Options, signer, pass builder and the HTTP/2 APNs client.</summary>
    public static IHostApplicationBuilder AddAppleWallet(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("Wallet:Apple").Get<AppleOptions>() ?? new AppleOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<PassSigner>();
        builder.Services.AddSingleton<PkPass>();
        builder.Services.AddSingleton<ApnsToken>();
        builder.Services.AddSingleton<ApplePushes>();
        builder.Services.AddHttpClient(ApplePushes.HttpClientName, http =>
            {
                http.BaseAddress = new Uri(options.Apns.BaseAddress);
                // APNs speaks HTTP/2 only; over http:// (the fake) that is h2c with prior knowledge.
                http.DefaultRequestVersion = HttpVersion.Version20;
                http.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                http.Timeout = TimeSpan.FromSeconds(10);
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
        return builder;
    }
}
