using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Fidpass.ServiceDefaults;

public static class Telemetry
{
    /// <summary>Activity source and meter of Fidpass's own business spans and counters.</summary>
    public const string FidpassSource = "Fidpass";

    /// <summary>
    /// Traces, metrics and logs for the host. Sources: ASP.NET Core, HttpClient, runtime, MassTransit,
    /// Marten, YARP, Npgsql and Fidpass. OTLP is exported when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is
    /// set; Prometheus is always scraped at <c>/metrics</c>.
    /// </summary>
    public static IHostApplicationBuilder ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("MassTransit", "Marten", "Yarp.ReverseProxy", "Npgsql", FidpassSource)
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o =>
                    // Probes and scrapes are noise in traces.
                    o.Filter = ctx => !IsInfrastructurePath(ctx.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddSource("MassTransit", "Marten", "Yarp.ReverseProxy", FidpassSource));

        // url.query is redacted by the ASP.NET Core and HttpClient instrumentations (default since
        // 1.10); tokens travel in ?token= on the compatibility routes, so that default must stay.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }

        return builder;
    }

    internal static bool IsInfrastructurePath(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments("/alive") || path.StartsWithSegments("/health") || path.StartsWithSegments("/ready") || path.StartsWithSegments("/metrics");
}
