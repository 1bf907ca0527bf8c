using Fidpass.FakeStripe;

// A stateful stand-in for api.stripe.com (Terminal, PaymentIntents, Refunds, webhooks):
//   dotnet run --project simulators/Fidpass.FakeStripe -- --urls http://127.0.0.1:12111 \
//     --FakeStripe:WebhookUrl http://127.0.0.1:5080/webhooks/stripe --FakeStripe:WebhookSecret whsec_…
await FakeStripeServer.Build(args).RunAsync();
