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

        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            // The framework's own answers (no route, wrong method or media type, unreadable body,
            // unexpected error) get a code like every other error.
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            if (!context.ProblemDetails.Extensions.ContainsKey("code"))
            {
                var code = ApiProblems.CodeFor(status);
                context.ProblemDetails.Extensions["code"] = code;
                context.ProblemDetails.Title = code;
                context.ProblemDetails.Detail ??= ApiProblems.DetailFor(status);
            }

            if (ApiProblems.IsCompatPath(context.HttpContext.Request.Path))
            {
                context.ProblemDetails.Extensions["error"] = context.ProblemDetails.Detail;
            }
        });
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
    /// With <c>Management:Port</c> (a port the process also listens on, see <c>ASPNETCORE_URLS</c>),
    /// <c>/metrics</c>, <c>/openapi/…</c> and the details of <c>/health</c> and <c>/ready</c> answer on
    /// that port only: on any other port <c>/metrics</c> and <c>/openapi</c> are 404 and the health
    /// endpoints give their status alone. The port of the connection decides, never the <c>Host</c> header.
    /// Errors the framework answers by itself are problem+json with a code; <see cref="RequestGuard"/>
    /// refuses values no endpoint can store (the gateway, which only forwards, passes
    /// <paramref name="guardRequests"/> false).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, bool guardRequests = true)
    {
        var management = ManagementPort(app.Configuration);
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A body cut at the size limit or unreadable is the client's error, not ours.
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
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

        if (guardRequests)
        {
            app.UseMiddleware<RequestGuard>();
        }

        Task WriteHealth(HttpContext context, HealthReport report) => management is null || context.Connection.LocalPort == management
            ? HealthReportWriter.WriteAsync(context, report)
            : HealthReportWriter.WriteStatusAsync(context, report);
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealth });
        app.MapHealthChecks("/ready", new HealthCheckOptions
        {
            Predicate = r => !r.Tags.Contains(BusTag),
            ResponseWriter = WriteHealth,
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
