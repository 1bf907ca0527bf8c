using Fidpass.CashlogySimulator;

// dotnet run --project simulators/Fidpass.CashlogySimulator -- --port 8092 --control-port 8093
var builder = WebApplication.CreateSlimBuilder(args);
// Command line (--port, --control-port) or environment (Simulator__Port, Simulator__ControlPort).
var port = builder.Configuration.GetValue("port", builder.Configuration.GetValue("Simulator:Port", 8092));
var controlPort = builder.Configuration.GetValue("control-port", builder.Configuration.GetValue("Simulator:ControlPort", 8093));
builder.WebHost.UseUrls($"http://127.0.0.1:{controlPort}");
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNameCaseInsensitive = true);

var simulator = await CashlogySimulator.StartAsync(port: port);
builder.Services.AddSingleton(simulator);

var app = builder.Build();
app.MapSimulatorControl();
Console.WriteLine($"CashlogyConnector simulator on tcp://127.0.0.1:{simulator.Port}, control API on http://127.0.0.1:{controlPort}/control");
await app.RunAsync();
await simulator.DisposeAsync();
