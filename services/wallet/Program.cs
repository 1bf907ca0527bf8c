using Fidpass.ServiceDefaults;
using Fidpass.Wallet;
using Fidpass.Wallet.Apple;
using Fidpass.Wallet.Cards;
using Fidpass.Wallet.Google;
using Fidpass.Wallet.Passes;
using MassTransit;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddFidpassMarten("wallet", opts =>
{
    opts.Schema.For<WalletPass>().UseOptimisticConcurrency(true).Index(p => p.MerchantId);
    opts.Schema.For<WalletMerchant>();
    opts.Schema.For<AppliedOperation>();
    opts.Schema.For<WalletReward>().Index(r => r.MerchantId);
    opts.Schema.For<GoogleObjectState>();
    opts.Schema.For<AppleRegistration>().Index(r => r.SerialNumber).Index(r => r.DeviceLibraryIdentifier);
});
builder.AddFidpassMessaging("wallet", bus => bus.AddConsumers(typeof(WalletApi).Assembly));
builder.AddAppleWallet();
builder.AddGoogleWallet();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<PassUpdates>();
builder.Services.AddSingleton<PassNotifier>();
builder.Services.AddSingleton<MerchantPasses>();
builder.Services.AddHostedService<PendingNotifications>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapWalletCardsApi();
app.MapPassKitWebService();

app.Run();
