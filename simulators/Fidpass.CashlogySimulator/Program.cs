using System.Net;
using Fidpass.CashlogySimulator;

// dotnet run --project simulators/Fidpass.CashlogySimulator -- --port 8092 --control-port 8093
var builder = WebApplication.CreateSlimBuilder(args);
// Command line (--port, --control-port, --listen) or environment (Simulator__Port, Simulator__ControlPort,
// Simulator__Listen). --listen 0.0.0.0 in a container; loopback otherwise.
var port = builder.Configuration.GetValue("port", builder.Configuration.GetValue("Simulator:Port", 8092));
var controlPort = builder.Configuration.GetValue("control-port", builder.Configuration.GetValue("Simulator:ControlPort", 8093));
var listen = IPAddress.Parse(builder.Configuration.GetValue("listen", builder.Configuration.GetValue("Simulator:Listen", "127.0.0.1"))!);
builder.WebHost.UseUrls($"http://{listen}:{controlPort}");
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNameCaseInsensitive = true);

var simulator = await CashlogySimulator.StartAsync(port: port, address: listen);
builder.Services.AddSingleton(simulator);

var app = builder.Build();
app.MapSimulatorControl();
Console.WriteLine($"CashlogyConnector simulator on tcp://{listen}:{simulator.Port}, control API on http://{listen}:{controlPort}/control");
await app.RunAsync();
await simulator.DisposeAsync();
