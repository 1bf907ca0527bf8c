using Fidpass.FakeGoogleWallet;

// A stand-in for walletobjects.googleapis.com and Google's OAuth token endpoint:
//   dotnet run --project simulators/Fidpass.FakeGoogleWallet -- --urls http://127.0.0.1:12113 \
//     --FakeGoogleWallet:ServiceAccountKeyPath service-account.json --FakeGoogleWallet:IssuerId 3388000000000000000
await FakeGoogleWalletServer.Build(args).RunAsync();
