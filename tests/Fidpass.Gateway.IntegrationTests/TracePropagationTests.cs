using System.Collections.ObjectModel;
using System.Diagnostics;
using Fidpass.Loyalty;
using Fidpass.Testing;
using OpenTelemetry.Trace;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>Finished spans, added by the exporter from any thread.</summary>
public sealed class ExportedSpans : Collection<Activity>
{
    private readonly Lock _gate = new();

    public List<Activity> Snapshot()
    {
        lock (_gate)
        {
            return [.. this];
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (_gate)
        {
            base.InsertItem(index, item);
        }
    }
}

/// <summary>Gateway, merchant-token and loyalty, with the spans the gateway's tracer exports kept in memory.</summary>
public sealed class TracingFixture : GatewayFixture
{
    public ExportedSpans Exported { get; } = [];

    protected override async Task StartServicesAsync()
    {
        await base.StartServicesAsync();
        await AddServiceAsync<LoyaltyApi>("loyalty");
    }

    // All hosts share this process, so the gateway's tracer provider sees every host's spans.
    protected override void ConfigureGateway(KestrelHost<GatewayApp> gateway) =>
        gateway.WithServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Exported)));
}

public sealed class TracePropagationTests(TracingFixture fixture) : IClassFixture<TracingFixture>
{
    [Fact]
    public async Task A_trace_started_at_the_gateway_continues_through_the_service_and_across_the_bus_to_the_consumer()
    {
        var merchant = await fixture.CreateMerchantAsync();

        var gatewayPort = fixture.Gateway.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var root = await Eventually.Get(
            () => Task.FromResult(Snapshot().FirstOrDefault(a => a.Kind == ActivityKind.Server
                && Tag(a, "url.path") == "/api/v1/admin/merchants"
                && Tag(a, "server.port") == gatewayPort)),
            a => a is not null, what: "the gateway's span of the admin request");
        var traceId = root!.TraceId;

        var merchantTokenPort = fixture.MerchantToken.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var consumer = await Eventually.Get(
            () => Task.FromResult(Snapshot().FirstOrDefault(a => a.TraceId == traceId
                && a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Consumer
                && a.TagObjects.Any(t => t.Value?.ToString()?.Contains("MerchantRegistered", StringComparison.Ordinal) == true))),
            a => a is not null, what: $"loyalty consuming MerchantRegistered for {merchant.Slug} in trace {traceId}");

        Assert.Contains(Snapshot(), a => a.TraceId == traceId && a.Kind == ActivityKind.Server && Tag(a, "server.port") == merchantTokenPort);
        Assert.Contains(Snapshot(), a => a.TraceId == traceId && a.Source.Name == "Fidpass" && a.DisplayName == "relay MerchantRegistered");
        Assert.NotNull(consumer);
    }

    private List<Activity> Snapshot() => fixture.Exported.Snapshot();

    private static string? Tag(Activity activity, string key) => activity.GetTagItem(key)?.ToString();
}
