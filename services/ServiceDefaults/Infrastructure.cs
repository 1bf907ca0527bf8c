using JasperFx;
using JasperFx.Events.Daemon;
using JasperFx.OpenTelemetry;
using Marten;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Fidpass.ServiceDefaults;

/// <summary>Wiring of the two servers every service talks to: PostgreSQL (Marten) and RabbitMQ (MassTransit).</summary>
public static class Infrastructure
{
    public const string PostgresConnectionName = "postgres";
    public const string RabbitMqConnectionName = "rabbitmq";

    /// <summary>
    /// Marten on <c>ConnectionStrings:postgres</c>, in the service's own schema. LISTEN/NOTIFY on
    /// event appends keeps the relay latency at a few milliseconds (DESIGN.md). The async daemon runs
    /// only where <c>Marten:Daemon</c> is <c>Solo</c> (default): exactly one replica per service may
    /// run it, because the registry's stand-in lock package cannot run HotCold.
    /// </summary>
    public static MartenServiceCollectionExtensions.MartenConfigurationExpression AddFidpassMarten(
        this IHostApplicationBuilder builder, string schema, Action<StoreOptions> configure)
    {
        // Configuration is read when the store is built, not now, so test hosts can override it.
        var marten = builder.Services.AddMarten(services =>
            {
                var options = new StoreOptions();
                options.Connection(services.GetRequiredService<IConfiguration>().GetConnectionString(PostgresConnectionName)
                    ?? throw new InvalidOperationException("ConnectionStrings:postgres is not configured."));
                options.DatabaseSchemaName = schema;
                options.Events.DatabaseSchemaName = schema;
                options.Events.UseListenNotifyForEventAppends = true;
                options.Events.MetadataConfig.HeadersEnabled = true;
                options.Events.MetadataConfig.CorrelationIdEnabled = true;
                options.Events.MetadataConfig.CausationIdEnabled = true;
                options.OpenTelemetry.TrackConnections = TrackLevel.Normal;
                options.OpenTelemetry.TrackEventCounters();
                options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                configure(options);
                return options;
            })
            .BuildSessionsWith<TracingSessionFactory>();

        // Schema migration at start-up; off only for hosts that must start without a database.
        if (builder.Configuration["Marten:ApplyChangesOnStartup"] is not "false")
        {
            marten.ApplyAllDatabaseChangesOnStartup();
        }

        if (!string.Equals(builder.Configuration["Marten:Daemon"], "Disabled", StringComparison.OrdinalIgnoreCase))
        {
            marten.AddAsyncDaemon(DaemonMode.Solo);
        }

        return marten;
    }

    /// <summary>
    /// MassTransit on RabbitMQ (<c>ConnectionStrings:rabbitmq</c>, an <c>amqp://</c> URI). Queues are
    /// named after the service (<paramref name="queuePrefix"/>) so two services consuming the same
    /// event each get their own copy. Failed messages are retried, then moved to <c>*_error</c>
    /// queues (never dropped).
    /// </summary>
    public static IHostApplicationBuilder AddFidpassMessaging(
        this IHostApplicationBuilder builder, string queuePrefix, Action<IBusRegistrationConfigurator>? configure = null)
    {
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(queuePrefix, false));
            bus.AddConfigureEndpointsCallback((_, _, endpoint) =>
                endpoint.UseMessageRetry(retry => retry.Intervals(50, 200, 1000, 3000)));
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(context.GetRequiredService<IConfiguration>().GetConnectionString(RabbitMqConnectionName)
                    ?? throw new InvalidOperationException("ConnectionStrings:rabbitmq is not configured.")));
                rabbit.ConfigureEndpoints(context);
            });
        });

        return builder;
    }
}
