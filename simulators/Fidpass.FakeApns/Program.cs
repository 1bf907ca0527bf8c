using Fidpass.FakeApns;

// A stand-in for api.push.apple.com (HTTP/2 without TLS, "h2c"):
//   dotnet run --project simulators/Fidpass.FakeApns -- --urls http://127.0.0.1:12112 \
//     --FakeApns:KeyPath AuthKey.p8 --FakeApns:KeyId FIDPASSKEY --FakeApns:TeamId FIDPASSTST --FakeApns:Topic pass.fr.fidpass.test
await FakeApnsServer.Build(args).RunAsync();
