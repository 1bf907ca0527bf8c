using Fidpass.Wallet.Passes;

namespace Fidpass.Wallet.Google;

public static class GoogleWallet
{
    /// <summary>The save link's address: <c>https://pay.google.com/gp/v/save/{jwt}</c>.</summary>
    public const string SaveUrl = "https://pay.google.com/gp/v/save/";

    /// <summary>Options, the service account (key, OAuth token), the class/object shapes and the REST client.</summary>
    public static IHostApplicationBuilder AddGoogleWallet(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("Wallet:Google").Get<GoogleOptions>() ?? new GoogleOptions();
        if (options.Origins.Length == 0 && builder.Configuration["Fidpass:WebUrl"] is { Length: > 0 } web)
        {
            options.Origins = [web.TrimEnd('/')];
        }

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<GoogleServiceAccount>();
        builder.Services.AddSingleton<GoogleLoyalty>();
        builder.Services.AddSingleton<GoogleWalletSync>();
        builder.Services.AddHttpClient(GoogleServiceAccount.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddHttpClient(GoogleWalletSync.HttpClientName, http =>
        {
            http.BaseAddress = new Uri(options.ApiBaseAddress.EndsWith('/') ? options.ApiBaseAddress : options.ApiBaseAddress + "/");
            http.Timeout = TimeSpan.FromSeconds(10);
        });
        return builder;
    }

    /// <summary>
    /// The « Ajouter à Google Wallet » link: a JWT signed by the service account (RS256) that names
    /// the member's object, already inserted through the API (https://developers.google.com/wallet/reference/rest/v1/Jwt).
    /// </summary>
    public static string SaveLink(GoogleServiceAccount account, GoogleLoyalty loyalty, GoogleOptions options, WalletPass pass, DateTimeOffset now)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = account.Email,
            ["aud"] = "google",
            ["typ"] = "savetowallet",
            ["iat"] = now.ToUnixTimeSeconds(),
            ["origins"] = options.Origins,
            ["payload"] = new Dictionary<string, object>
            {
                ["loyaltyObjects"] = new[] { new Dictionary<string, string> { ["id"] = loyalty.ObjectId(pass.Id), ["classId"] = loyalty.ClassId(pass.MerchantId) } },
            },
        };
        return SaveUrl + Jwt.Sign(new { alg = "RS256", typ = "JWT", kid = account.KeyId }, claims, account.Sign);
    }
}
