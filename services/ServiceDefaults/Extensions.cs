using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Fidpass.ServiceDefaults;

public static class Extensions
{
    private const string LiveTag = "live";

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
    /// <c>/alive</c> (the process runs), <c>/health</c> (it can serve: PostgreSQL and RabbitMQ answer),
    /// <c>/metrics</c> (Prometheus) and <c>/openapi/v1.json</c>, in every environment: probes need them.
    /// With <c>Management:Port</c> (a port the process also listens on, see <c>ASPNETCORE_URLS</c>),
    /// <c>/metrics</c>, <c>/openapi/…</c> and the details of <c>/health</c> answer on that port only:
    /// on any other port <c>/metrics</c> and <c>/openapi</c> are 404 and <c>/health</c> gives its status alone.
    /// The port of the connection decides, never the <c>Host</c> header a client sends.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        var management = ManagementPort(app.Configuration);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (management is { } port)
        {
            app.Use((context, next) =>
            {
                if (context.Connection.LocalPort != port
                    && (context.Request.Path.StartsWithSegments("/metrics") || context.Request.Path.StartsWithSegments("/openapi")))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        app.MapHealthChecks("/health", new HealthCheckOptions
        {
            ResponseWriter = (context, report) => management is null || context.Connection.LocalPort == management
                ? HealthReportWriter.WriteAsync(context, report)
                : HealthReportWriter.WriteStatusAsync(context, report),
        });
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi();
        return app;
    }

    /// <summary><c>Management:Port</c>, when configured.</summary>
    public static int? ManagementPort(IConfiguration configuration) =>
        int.TryParse(configuration["Management:Port"], System.Globalization.CultureInfo.InvariantCulture, out var port) && port > 0 ? port : null;
}
