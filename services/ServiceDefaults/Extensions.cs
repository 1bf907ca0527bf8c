using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Fidpass.ServiceDefaults;

public static class Extensions
{
    private const string LiveTag = "live";

    /// <summary>The tag MassTransit gives its bus health check.</summary>
    private const string BusTag = "masstransit";

    /// <summary>
    /// Telemetry, health checks (PostgreSQL really queried; RabbitMQ through MassTransit's bus check)
    /// and problem details. Every service and the gateway call this first.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, bool usesPostgres = true)
    {
        builder.ConfigureOpenTelemetry();

        var health = builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        if (usesPostgres)
        {
            health.AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"]);
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNameCaseInsensitive = true);
        return builder;
    }

    /// <summary>
    /// <c>/alive</c> (the process runs), <c>/health</c> (everything answers: PostgreSQL and RabbitMQ),
    /// <c>/ready</c> (it can serve requests: every check but the bus's), <c>/metrics</c> (Prometheus)
    /// and <c>/openapi/v1.json</c>, in every environment: probes need them. Kubernetes' readiness uses
    /// <c>/ready</c>: requests commit to the event store and the relay publishes once the broker is
    /// back, so a RabbitMQ outage must not take every pod (the gateway's included) out of service.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync });
        app.MapHealthChecks("/ready", new HealthCheckOptions
        {
            Predicate = r => !r.Tags.Contains(BusTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        });
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi();
        return app;
    }
}
